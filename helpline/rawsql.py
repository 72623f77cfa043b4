"""Fixed reads run from SQL written once per process, their rows turned into models as the ORM does.

For the few reads every request of a hot endpoint makes, where building the query through the ORM
costs more than running it (docs/PERFORMANCE.md). Identifiers come from the models' ``_meta``;
every value is a parameter. A column's value goes through its field's own database converters
(``connection.ops.get_db_converters`` and the field's ``from_db_value``), so a UUID, a time or a
sealed value reads the same on PostgreSQL and on SQLite (the embedded mode) as through the ORM.
"""

from dataclasses import dataclass, field


@dataclass
class Columns:
    """Selected columns: their SQL, and for each the field it reads and its converters."""

    sql: list[str] = field(default_factory=list)
    fields: list = field(default_factory=list)
    converters: list = field(default_factory=list)

    def add(self, connection, alias: str, model, names=None) -> "Columns":
        """``model``'s concrete fields (or those whose attname is in ``names``, in the model's order) from ``alias``."""
        for model_field in model._meta.concrete_fields:
            if names is None or model_field.attname in names:
                self.column(connection, alias, model_field)
        return self

    def column(self, connection, alias: str, model_field, sql: str | None = None) -> "Columns":
        """One column read as ``model_field`` (``sql``: an expression instead of the field's own column)."""
        self.sql.append(sql or f'{alias}."{model_field.column}"')
        self.fields.append(model_field)
        column = model_field.get_col(alias)
        self.converters.append(
            (column, connection.ops.get_db_converters(column) + model_field.get_db_converters(connection))
        )
        return self

    def select(self) -> str:
        return ", ".join(self.sql)

    def convert(self, connection, row) -> list:
        values = []
        for value, (column, converters) in zip(row, self.converters, strict=True):
            for converter in converters:
                value = converter(value, column, connection)
            values.append(value)
        return values


def instance_of(model, connection, values: dict):
    """A ``model`` instance as the database holds it, from some of its columns (by attname; the rest deferred)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def insert_values(instance, fields, connection) -> list:
    """The parameters of an INSERT of ``instance``'s ``fields``, each prepared as ``save()`` would (``pre_save``:
    ``auto_now_add``, a sealed field's own check)."""
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


def mark_saved(instance, connection) -> None:
    """``instance`` was INSERTed by hand: from now on it is a saved row, as after ``save()``."""
    instance._state.adding = False
    instance._state.db = connection.alias
