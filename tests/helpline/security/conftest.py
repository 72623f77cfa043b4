"""Fixtures of the attack tests: the consoles' world (a line, a web chat, people in every role)."""

from datetime import timedelta

from axes.models import AccessAttempt
from django.db import connection
from django.db.models import F

from tests.helpline.console.conftest import (  # noqa: F401 - fixtures shared with the console tests
    chat_endpoint,
    colleague,
    far_supervisor,
    other_line,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def database_dump_text() -> str:
    """Every row of every table as text, as a dump (pg_dump, a stolen backup) would give it."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} t")  # noqa: S608 - our own tables
            parts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(parts)


def time_passes(seconds: float) -> None:
    """Move every recorded login failure back in time, as if ``seconds`` had passed."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=seconds))
