"""Fixtures of the attack tests: the consoles' line with its web chat; what a dump of the database shows."""

from django.db import connection

from tests.helpline.console.conftest import chat_endpoint  # noqa: F401 - a fixture shared with the console tests

HTMX = {"HTTP_HX_REQUEST": "true"}


def database_dump_text() -> str:
    """Every row of every table as text, as a dump (pg_dump, a stolen backup) would give it."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} t")  # noqa: S608 - our own tables
            parts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(parts)
