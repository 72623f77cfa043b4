"""``check --deploy``: the application's database role must not be able to rewrite the audit trail.

The append-only trigger stops every client except the table's owner (who can
disable or drop it) and a superuser (who can also switch triggers off for a
session). So in production the tables belong to a migration role, and the
application connects as a role that is neither, with no UPDATE, DELETE or
TRUNCATE on them (docs/OPERATIONS.md). This check asks PostgreSQL what the role
the application connects as may do.
"""

from django.core.checks import Error, register
from django.db import DatabaseError, connections, router

AUDIT_TABLES = ("audit_auditevent", "audit_auditlink")

PRIVILEGES_SQL = """
SELECT c.relname,
       pg_get_userbyid(c.relowner),
       pg_has_role(current_user, c.relowner, 'MEMBER'),
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
       has_table_privilege(current_user, c.oid, 'UPDATE'),
       has_table_privilege(current_user, c.oid, 'DELETE'),
       has_table_privilege(current_user, c.oid, 'TRUNCATE'),
       has_table_privilege(current_user, c.oid, 'TRIGGER'),
       current_user
  FROM pg_class c
 WHERE c.oid = to_regclass(%s)
"""

HINT = "Run migrate as a migration role and the application as a role with only its grants (docs/OPERATIONS.md)."


@register("security", deploy=True)
def audit_role_cannot_rewrite_the_trail(app_configs=None, **kwargs) -> list[Error]:
    from helpline.audit.models import AuditEvent

    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor != "postgresql":
        return []  # the embedded mode: one file, one process, no roles
    rows = []
    try:
        with connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                cursor.execute(PRIVILEGES_SQL, [table])
                rows.append((table, cursor.fetchone()))
    except DatabaseError as exc:
        return [
            Error(
                f"Could not ask the database what the application's role may do to the audit trail ({exc}).",
                hint=HINT,
                id="helpline.audit.E001",
            )
        ]
    return [error for table, row in rows for error in _problems(table, row)]


def _problems(table: str, row) -> list[Error]:
    if row is None:
        return [Error(f"The audit table {table} does not exist: run migrate first.", id="helpline.audit.E002")]
    _, owner, member_of_owner, superuser, can_update, can_delete, can_truncate, can_trigger, role = row
    problems = []
    if superuser:
        problems.append(
            Error(
                f"The application connects as {role}, a PostgreSQL superuser, which can switch off the "
                f"append-only trigger on {table} and rewrite the audit trail.",
                hint=HINT,
                id="helpline.audit.E003",
            )
        )
    elif member_of_owner:
        problems.append(
            Error(
                f"The application's role {role} owns {table} (or may act as its owner {owner}), so it can "
                "disable the append-only trigger and rewrite the audit trail.",
                hint=HINT,
                id="helpline.audit.E004",
            )
        )
    privileges = (("UPDATE", can_update), ("DELETE", can_delete), ("TRUNCATE", can_truncate), ("TRIGGER", can_trigger))
    granted = [name for name, allowed in privileges if allowed]
    if granted and not (superuser or member_of_owner):
        problems.append(
            Error(
                f"The application's role {role} holds {', '.join(granted)} on {table}; "
                "it needs only SELECT and INSERT.",
                hint=HINT,
                id="helpline.audit.E005",
            )
        )
    return problems
