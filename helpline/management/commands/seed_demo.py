from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from helpline.demo import DEMO_LINE, demo_seed

EXAMPLE_SMS = "Someone is threatening to share my photos"


class Command(BaseCommand):
    help = "Load the demo line and users (idempotent) and print how to log in. Refused in production."

    def add_arguments(self, parser):
        parser.add_argument(
            "--served-at",
            default="",
            help="The address the server really listens on (make run passes it); default PUBLIC_BASE_URL.",
        )

    def handle(self, *args, served_at, **options):
        try:
            logins = demo_seed()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        served = (served_at or settings.PUBLIC_BASE_URL).rstrip("/")
        out = self.stdout
        out.write("\nDemo logins (new passwords and backup codes on every start):")
        for login in logins:
            out.write(f"  {login.role:<11} user {login.username:<11} password {login.password}")
            out.write(f"              backup codes (single use): {', '.join(login.backup_codes[:3])}")
            out.write(f"              authenticator secret: {login.totp_secret}")
        out.write(f"Log in at {served}/ with the password, then a backup code or a code from an authenticator app.")
        out.write(f"Children's web chat: {served}/chat/{DEMO_LINE}/")
        # The webhook signature covers PUBLIC_BASE_URL: the command must sign for the server's value.
        out.write(
            "Send a test SMS (flagged: it matches a risk phrase):\n"
            f"  PUBLIC_BASE_URL={settings.PUBLIC_BASE_URL} .venv/bin/python manage.py simulate_sms "
            f'--url {served} --line {DEMO_LINE} --from +15551230001 "{EXAMPLE_SMS}"\n'
        )
