"""``field__has_item=value``: a JSON list field holds ``value``, on PostgreSQL and on SQLite.

Django's ``__contains`` on a JSONField is PostgreSQL's ``@>`` and raises NotSupportedError on
SQLite, which the embedded demo (``make run``) runs on. This lookup is ``@>`` on PostgreSQL (so
a GIN index still serves it) and a ``json_each`` scan on SQLite. The value is one scalar (a
string or an integer), never a list: ``regions__has_item="KE-047"``.

Registered on every JSONField by ``helpline.apps.HelplineConfig.ready``.
"""

import json

from django.db import NotSupportedError
from django.db.models import JSONField, Lookup


@JSONField.register_lookup
class HasItem(Lookup):
    lookup_name = "has_item"
    prepare_rhs = False

    def get_prep_lookup(self):
        if isinstance(self.rhs, bool) or not isinstance(self.rhs, str | int):
            raise TypeError(f"has_item takes one string or integer, not {type(self.rhs).__name__}")
        return self.rhs

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} @> %s::jsonb", [*lhs_params, json.dumps([self.rhs])]

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # The column is Django's compiled SQL; the value only ever travels as a bound parameter.
        sql = f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = %s)"  # noqa: S608
        return sql, [*lhs_params, self.rhs]

    def as_sql(self, compiler, connection):
        raise NotSupportedError(f"has_item is written for PostgreSQL and SQLite, not {connection.vendor}")
