"""Give the application's database role its grants; run as the migration role after every ``migrate``."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from helpline.audit.roles import app_role_grant_statements


class Command(BaseCommand):
    help = (
        "Grant the application's PostgreSQL role what it needs on every table (after each migrate), and no "
        "UPDATE, DELETE or TRUNCATE on the audit trail. Run as the role that owns the tables (docs/OPERATIONS.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="The application's role, e.g. helpline_app.")
        parser.add_argument("--print", action="store_true", dest="print_only", help="Print the SQL instead.")

    def handle(self, *args, role, print_only, **options):
        try:
            statements = app_role_grant_statements(role)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if print_only:
            self.stdout.write(";\n".join(statements) + ";")
            return
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist only on PostgreSQL; the embedded mode has none.")
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"Granted {role} the application's privileges; the audit trail stays append-only for it.")
