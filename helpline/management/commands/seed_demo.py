from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from helpline.demo import DEMO_LINE, demo_seed


class Command(BaseCommand):
    help = "Load the demo line and users (idempotent) and print how to log in. Refused in production."

    def handle(self, *args, **options):
        try:
            logins = demo_seed()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        out = self.stdout
        out.write("\nDemo logins (new passwords and backup codes on every start):")
        for login in logins:
            out.write(f"  {login.role:<11} user {login.username:<11} password {login.password}")
            out.write(f"              backup codes (single use): {', '.join(login.backup_codes[:3])}")
            out.write(f"              authenticator secret: {login.totp_secret}")
        out.write("Log in with the password, then a backup code or a code from an authenticator app.")
        out.write(f"Children's web chat: {settings.PUBLIC_BASE_URL}/chat/{DEMO_LINE}/\n")
