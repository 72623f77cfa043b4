"""Database roles for the tests of issue 9 item 3: an application role with exactly the production grants.

Roles belong to the whole PostgreSQL cluster, so their names carry the test
database's name (each engineer's suite has its own) and they are dropped after use.
"""

from contextlib import contextmanager

import psycopg
from django.db import connection

from helpline.audit.roles import app_role_grant_statements


def role_name(suffix: str) -> str:
    return f"{connection.settings_dict['NAME']}_{suffix}"[:63].lower()


@contextmanager
def owner_connection():
    """A connection of its own as the suite's (owning) role, committing as it goes."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"] or "postgres",
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        autocommit=True,
    ) as owner:
        yield owner


def role_drop(cursor, name: str) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    if cursor.fetchone():
        cursor.execute(f"DROP OWNED BY {name}")
        cursor.execute(f"DROP ROLE {name}")


def database_url(user: str) -> str:
    settings = connection.settings_dict
    return f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def app_role_database_url(django_db_blocker):
    """Yield a DATABASE_URL for a committed LOGIN role with the application's grants on the test database.

    For a fixture: ``yield from app_role_database_url(django_db_blocker)`` (with ``transactional_db``).
    """
    name = role_name("app")
    with django_db_blocker.unblock(), owner_connection() as owner, owner.cursor() as cursor:
        role_drop(cursor, name)  # left over by an interrupted run
        cursor.execute(f"CREATE ROLE {name} LOGIN")
        for statement in app_role_grant_statements(name):
            cursor.execute(statement)
    try:
        yield database_url(name)
    finally:
        with django_db_blocker.unblock(), owner_connection() as owner, owner.cursor() as cursor:
            role_drop(cursor, name)
