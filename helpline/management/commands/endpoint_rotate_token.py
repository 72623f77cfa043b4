import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from helpline.management.commands.endpoint_create import read_secret, validation_message
from helpline.models import ChannelEndpoint
from helpline.services.endpoints import PROVIDER_CHANNELS, endpoint_address_clean, endpoint_token_rotate


def endpoint_named(channel: str, address: str) -> ChannelEndpoint:
    try:
        address = endpoint_address_clean(channel=channel, address=address)
    except ValidationError as error:
        raise CommandError(validation_message(error)) from None
    endpoint = ChannelEndpoint.objects.filter(channel=channel, address=address).first()
    if endpoint is None:
        raise CommandError(f"No {channel} endpoint with that number.")
    return endpoint


class Command(BaseCommand):
    help = (
        "Replace a number's auth token after rotating it at the provider. The new token is read from standard "
        "input; webhooks signed with it are accepted at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, choices=[channel.value for channel in PROVIDER_CHANNELS])
        parser.add_argument("--address", required=True, help="The line's number in E.164.")
        parser.add_argument("--reason", default="", help="Kept in the audit trail.")

    def handle(self, *args, **options):
        endpoint = endpoint_named(options["channel"], options["address"])
        secret = read_secret(sys.stdin)
        try:
            endpoint_token_rotate(actor=None, endpoint=endpoint, secret=secret, reason=options["reason"])
        except ValidationError as error:
            raise CommandError(validation_message(error)) from None
        self.stdout.write(
            f"Replaced the auth token of the {endpoint.get_channel_display()} endpoint {endpoint.address}."
        )
