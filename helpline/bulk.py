"""Set-based writes: several rows of one model, each with its own values, in one statement.

- ``rows_update(objs, fields)``: saved instances, ``fields`` written from each;
- ``values_update(model, fields, rows)``: the same from plain ``(pk, value, …)`` tuples (no instances);
- ``values_insert(model, rows)``: plain dicts of field values, one multi-row INSERT;
- ``locked_update(model, pks, values, returning)``: the same values on rows named by their pks, locked
  in pk order, the updated rows' fields returned (an UPDATE and its read-back in one statement).

Django's ``bulk_update`` writes ``CASE WHEN id = … THEN …`` per field and row, and building
those expressions costs more than the round trips it saves (measured on the referral
outbox's batches: two thirds of a batch's time); its ``bulk_create`` builds an instance and
runs the compiler per row. On PostgreSQL these read the rows from ``unnest`` over one array
parameter per column instead, each value prepared by its field as ``save()`` would; elsewhere
they fall back to the ORM. One array per column, not a ``VALUES`` list of a placeholder per
value: the statement's text is then the same whatever the number of rows, so psycopg parses it
once (it parses again every statement of more than 50 parameters, and measured on the referral
outbox's batches of 100 that parsing was half the time its statements took in the worker). Like
``bulk_update`` and ``bulk_create`` they run no ``save()``, no signals and no ``auto_now``:
the caller sets every value (a field left out of an inserted row gets its default).
"""

import functools

from django.db import connections, router
from django.db.models import Model


def rows_update(objs: list[Model], fields: list[str]) -> int:
    """Write ``fields`` of every instance in ``objs`` (same model, saved already); returns the rows updated."""
    if not objs or not fields:
        return 0
    model = type(objs[0])
    if connections[router.db_for_write(model)].vendor != "postgresql":
        return model._base_manager.using(router.db_for_write(model)).bulk_update(objs, fields)
    attnames = [model._meta.get_field(name).attname for name in fields]
    return values_update(model, fields, [(obj.pk, *(getattr(obj, name) for name in attnames)) for obj in objs])


@functools.lru_cache(maxsize=128)
def _update_sql(model: type[Model], fields: tuple[str, ...], using: str) -> str:
    connection = connections[using]
    opts = model._meta
    pk = opts.pk
    columns = [opts.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in ["pk", *(f"v{index}" for index in range(len(columns)))])
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(f'v{index}')}" for index, field in enumerate(columns))
    return (
        f"UPDATE {quote(opts.db_table)} SET {assignments} "  # noqa: S608 (names from the model, values bound)
        f"FROM unnest({_arrays(connection, [pk, *columns])}) AS v({names}) "
        f"WHERE {quote(opts.db_table)}.{quote(pk.column)} = v.{quote('pk')}"
    )


def _arrays(connection, fields) -> str:
    """One array parameter per field, cast to the field's column type."""
    return ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)


def _columns(connection, fields, rows) -> list[list]:
    """``rows`` (tuples, a value per field) as one list per field, each value prepared as ``save()`` would."""
    prepare = [field.get_db_prep_save for field in fields]
    return [[field_prepare(row[index], connection) for row in rows] for index, field_prepare in enumerate(prepare)]


def values_update(model: type[Model], fields: list[str], rows: list[tuple]) -> int:
    """Write ``fields`` of the rows of ``model`` named by each tuple's first value (its pk), the values
    following in the order of ``fields``; returns the rows updated."""
    if not rows or not fields:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    opts = model._meta
    if connection.vendor != "postgresql":
        updated = 0
        for pk, *values in rows:
            updated += model._base_manager.using(using).filter(pk=pk).update(**dict(zip(fields, values, strict=True)))
        return updated
    columns = _columns(connection, [opts.pk, *(opts.get_field(name) for name in fields)], rows)
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(model, tuple(fields), using), columns)
        return cursor.rowcount


@functools.lru_cache(maxsize=128)
def _insert_sql(model: type[Model], fields: tuple[str, ...], using: str) -> str:
    connection = connections[using]
    opts = model._meta
    quote = connection.ops.quote_name
    columns = [opts.get_field(name) for name in fields]
    return (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(field.column) for field in columns)}) "  # noqa: S608
        f"SELECT * FROM unnest({_arrays(connection, columns)})"
    )


def values_insert(model: type[Model], rows: list[dict]) -> int:
    """Insert ``rows`` (dicts of field name to value, every row the same keys, primary key included when
    it has no database default); returns the rows inserted."""
    if not rows:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return len(model._base_manager.using(using).bulk_create([model(**row) for row in rows]))
    fields = tuple(rows[0])
    opts = model._meta
    columns = _columns(
        connection, [opts.get_field(name) for name in fields], [[row[name] for name in fields] for row in rows]
    )
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, fields, using), columns)
        return cursor.rowcount


def locked_update(model: type[Model], pks: list, values: dict, returning: list[str]) -> list[tuple]:
    """Write ``values`` (field name to value, the same for every row) on the rows of ``model`` whose primary
    keys are ``pks``, locked in primary-key order first (two transactions that lock some of the same rows
    never deadlock), and return the ``returning`` fields of each row updated: on PostgreSQL one statement
    instead of the UPDATE and a read of it."""
    if not pks:
        return []
    using = router.db_for_write(model)
    connection = connections[using]
    manager = model._base_manager.using(using)
    if connection.vendor != "postgresql":
        locked = list(manager.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))
        manager.filter(pk__in=locked).update(**values)
        return list(manager.filter(pk__in=locked).order_by("pk").values_list(*returning))
    opts = model._meta
    fields = [opts.get_field(name) for name in values]
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values(), strict=True)]
    params.append([opts.pk.get_db_prep_save(pk, connection) for pk in pks])
    with connection.cursor() as cursor:
        cursor.execute(_locked_update_sql(model, tuple(values), tuple(returning), using), params)
        return cursor.fetchall()


@functools.lru_cache(maxsize=128)
def _locked_update_sql(model: type[Model], fields: tuple[str, ...], returning: tuple[str, ...], using: str) -> str:
    connection = connections[using]
    opts = model._meta
    quote = connection.ops.quote_name
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    assignments = ", ".join(
        f"{quote(field.column)} = %s::{field.db_type(connection)}" for field in map(opts.get_field, fields)
    )
    returned = [opts.pk if name == "pk" else opts.get_field(name) for name in returning]
    columns = ", ".join(f"{table}.{quote(field.column)}" for field in returned)
    return (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 (names from the model, values bound)
        f"FROM (SELECT {pk} FROM {table} WHERE {pk} = ANY(%s::{opts.pk.db_type(connection)}[]) "
        f"ORDER BY {pk} FOR UPDATE) AS locked WHERE {table}.{pk} = locked.{pk} RETURNING {columns}"
    )
