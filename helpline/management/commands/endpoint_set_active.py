from django.core.management.base import BaseCommand

from helpline.management.commands.endpoint_rotate_token import endpoint_named
from helpline.services.endpoints import PROVIDER_CHANNELS, endpoint_activate, endpoint_deactivate


class Command(BaseCommand):
    help = "Switch a number on or off. Switched off, its webhooks get 404 and nothing is stored."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, choices=[channel.value for channel in PROVIDER_CHANNELS])
        parser.add_argument("--address", required=True, help="The line's number in E.164.")
        state = parser.add_mutually_exclusive_group(required=True)
        state.add_argument("--on", action="store_true")
        state.add_argument("--off", action="store_true")
        parser.add_argument("--reason", default="", help="Kept in the audit trail.")

    def handle(self, *args, **options):
        endpoint = endpoint_named(options["channel"], options["address"])
        switch = endpoint_activate if options["on"] else endpoint_deactivate
        endpoint = switch(actor=None, endpoint=endpoint, reason=options["reason"])
        state = "on" if endpoint.active else "off"
        self.stdout.write(f"The {endpoint.get_channel_display()} endpoint {endpoint.address} is {state}.")
