"""Keyset ("cursor") pagination: page N costs what page 1 costs.

An OFFSET query reads and throws away every row before the page, so page 500 of
a case list is 500 times the work of page 1. A keyset page instead starts where
the previous one ended: ``WHERE (opened_at, id) < (last_opened_at, last_id)``,
which an index on the ordering columns answers directly.

    page = keyset_page(cases, order=("-opened_at", "-id"), cursor=request.GET.get("after"), size=50)
    page.items, page.next_cursor  # pass next_cursor back as ?after=...

The ordering must end in a unique column (the primary key) so no row is skipped
or shown twice. A cursor is the last row's ordering values, base64-encoded JSON;
it names no content (dates and ids only), and a cursor that does not parse is
treated as the first page: the query is permission-filtered anyway, so a forged
cursor can only move within what the user may see.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from functools import reduce

from django.core.exceptions import ValidationError
from django.db.models import Q

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None
    size: int
    cursor: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def _parse_order(order: tuple[str, ...]) -> list[tuple[str, bool]]:
    if not order:
        raise ValueError("keyset_page needs an ordering")
    return [(name.lstrip("-"), name.startswith("-")) for name in order]


def cursor_encode(values: list) -> str:
    text = json.dumps([value if isinstance(value, int | float | bool) else str(value) for value in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_decode(cursor: str | None, *, model, order: tuple[str, ...]) -> list | None:
    """The ordering values a cursor carries, converted to the fields' types; None if absent or invalid."""
    if not cursor:
        return None
    columns = _parse_order(order)
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, list) or len(raw) != len(columns):
        return None
    values = []
    for (name, _descending), value in zip(columns, raw, strict=True):
        model_field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        try:
            values.append(model_field.to_python(value))
        except (ValidationError, TypeError, ValueError):
            return None
        if values[-1] is None:
            return None
    return values


def _after(columns: list[tuple[str, bool]], values: list) -> Q:
    """Rows strictly after ``values`` in this ordering.

    (a, b) after (x, y) is ``a ≷ x OR (a = x AND b ≷ y)``; the leading ``a ≷= x``
    repeats the first column on its own so the planner can start the index scan
    at the cursor instead of filtering from the top.
    """
    alternatives = []
    for position, (name, descending) in enumerate(columns):
        equal = {column: value for (column, _), value in zip(columns[:position], values[:position], strict=True)}
        alternatives.append(Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[position]}))
    first_name, first_descending = columns[0]
    start = Q(**{f"{first_name}__{'lte' if first_descending else 'gte'}": values[0]})
    return start & reduce(lambda left, right: left | right, alternatives)


def keyset_page(queryset, *, order: tuple[str, ...], cursor: str | None = None, size: int = 50, make=None) -> Page:
    """One page of ``queryset`` in ``order`` after ``cursor``; one query whatever the page.

    ``make`` turns each fetched row into an item (for a ``values_list`` queryset: a named
    tuple whose attributes include the ordering columns).
    """
    size = max(1, min(int(size), MAX_PAGE_SIZE))
    columns = _parse_order(order)
    values = cursor_decode(cursor, model=queryset.model, order=order)
    if values is not None:
        queryset = queryset.filter(_after(columns, values))
    rows = list(queryset.order_by(*order)[: size + 1])
    if make is not None:
        rows = [make(row) for row in rows]
    items, more = rows[:size], len(rows) > size
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = cursor_encode([getattr(last, name) for name, _ in columns])
    return Page(items=items, next_cursor=next_cursor, size=size, cursor=cursor if values is not None else None)
