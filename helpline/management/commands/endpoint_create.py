import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from helpline.models import Helpline
from helpline.services.endpoints import PROVIDER_CHANNELS, endpoint_create


def read_secret(stdin) -> str:
    """The first line of standard input: a secret never travels in arguments (shell history, process lists)."""
    secret = stdin.readline().rstrip("\r\n")
    if not secret:
        raise CommandError("No auth token on standard input. Pipe it in, for example: printf '%s' \"$TOKEN\" | ...")
    return secret


def validation_message(error: ValidationError) -> str:
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Connect an SMS or WhatsApp number to a line. The provider's auth token is read from standard input "
        "and stored encrypted; it is never printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--line", required=True, help="The line's slug.")
        parser.add_argument("--channel", required=True, choices=[channel.value for channel in PROVIDER_CHANNELS])
        parser.add_argument("--address", required=True, help="The line's number in E.164, such as +15551230000.")
        parser.add_argument("--account", required=True, help="The provider account (Twilio: the Account SID).")
        parser.add_argument("--inactive", action="store_true", help="Create it switched off.")
        parser.add_argument("--reason", default="", help="Kept in the audit trail.")

    def handle(self, *args, **options):
        line = Helpline.objects.filter(slug=options["line"]).first()
        if line is None:
            raise CommandError(f"No line with slug {options['line']!r}.")
        secret = read_secret(sys.stdin)
        try:
            endpoint = endpoint_create(
                actor=None,
                line=line,
                channel=options["channel"],
                address=options["address"],
                provider_account=options["account"],
                secret=secret,
                active=not options["inactive"],
                reason=options["reason"],
            )
        except ValidationError as error:
            raise CommandError(validation_message(error)) from None
        state = "on" if endpoint.active else "off"
        self.stdout.write(
            f"Created the {endpoint.get_channel_display()} endpoint {endpoint.address} of {line.slug} ({state})."
        )
