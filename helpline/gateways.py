"""How messages leave the platform: a small protocol that channel adapters implement.

helpline never imports an adapter; settings.HELPLINE_GATEWAYS maps each channel
to the dotted path of a Gateway class (Twilio lives in integrations/twilio/).
"""

from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from helpline.outbox import DeliveryError


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    contact_id: str
    channel: str
    endpoint_address: str
    endpoint_account: str
    endpoint_secret: str
    to: str
    body: str


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None
    status: str  # a MessageStatus value


class GatewayError(DeliveryError):
    """A send that did not go out (see ``helpline.outbox.DeliveryError``): shown to the counsellor in plain words.

    ``permanent`` failures (an invalid number, WhatsApp's 24-hour window closed)
    are not retried; others are, with backoff. Never put a message body or a
    phone number into ``reason``.
    """


class Gateway(Protocol):
    def send(self, outgoing: Outgoing) -> SendResult: ...


@cache
def gateway_for(channel: str) -> Gateway:
    try:
        path = settings.HELPLINE_GATEWAYS[channel]
    except KeyError:
        raise GatewayError(f"No gateway is configured for {channel}", permanent=True) from None
    return import_string(path)()
