import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from helpline.models import Role
from helpline.services.staff import staff_create


class Command(BaseCommand):
    help = "Create a staff account. The password is read from standard input, so it stays out of shell history."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--line", action="append", default=[], dest="lines", help="Line slug; repeat for several.")
        parser.add_argument("--language", action="append", default=[], dest="languages", help="Language code; repeat.")
        parser.add_argument("--capacity", type=int, default=3, help="Conversations at once (default 3).")
        parser.add_argument("--team", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args, **options):
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("No password on standard input. Pipe it in, for example: printf '%s' \"$PW\" | ...")
        try:
            staff = staff_create(
                username=options["username"],
                password=password,
                role=options["role"],
                line_slugs=options["lines"],
                languages=options["languages"],
                capacity=options["capacity"],
                team=options["team"],
                email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            f"Created {staff.role} {staff.user.username}. They enrol two-factor authentication at first login."
        )
