"""The grants of the application's database role: everything it needs, nothing that could rewrite the audit trail.

The migration role owns the schema and runs ``migrate``; the application role
reads and writes the application's tables but only reads and adds to the audit
trail's two tables (events and links): no UPDATE, DELETE or TRUNCATE, and, not
being their owner, no way to disable the append-only trigger. The linker needs
nothing more than INSERT on the links.

``manage.py db_grant_app_role ROLE`` runs these statements as the migration role
after every ``migrate`` (new tables need their grants); ``check --deploy`` checks
the result from the application's side (``helpline.audit.checks``).
"""

import re

from helpline.audit.checks import AUDIT_TABLES

ROLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def app_role_grant_statements(role: str) -> list[str]:
    """The SQL that gives ``role`` the application's grants on the current database's public schema."""
    if not ROLE_PATTERN.match(role):
        raise ValueError("A role name is 1-63 lower-case letters, digits and underscores, not starting with a digit")
    audit_tables = ", ".join(AUDIT_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # The audit trail only grows, also for the application.
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {audit_tables} FROM {role}",
    ]
