"""Demo endpoints for the demo line, so the real webhook path can be exercised without Twilio.

Their account is DEMO_ACCOUNT_SID, which the gateway recognises: replies to
demo conversations are marked sent and go nowhere.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from helpline.models import Channel, ChannelEndpoint
from helpline.services.endpoints import endpoint_create
from integrations.twilio.gateway import DEMO_ACCOUNT_SID

DEMO_SMS_NUMBER = "+15551230000"
DEMO_WHATSAPP_NUMBER = "+15551230009"


@transaction.atomic
def demo_endpoints_ensure(line) -> list[ChannelEndpoint]:
    """The demo SMS and WhatsApp endpoints of ``line``, created with a random auth token if missing."""
    if settings.PRODUCTION:
        raise ImproperlyConfigured("Demo endpoints are never created in production.")
    endpoints = []
    for channel, address in ((Channel.SMS, DEMO_SMS_NUMBER), (Channel.WHATSAPP, DEMO_WHATSAPP_NUMBER)):
        endpoint = ChannelEndpoint.objects.select_for_update().filter(channel=channel, address=address).first()
        if endpoint is None:
            endpoint = endpoint_create(
                actor=None,
                line=line,
                channel=channel,
                address=address,
                provider_account=DEMO_ACCOUNT_SID,
                secret=secrets.token_hex(16),
                reason="Demo endpoint",
            )
        endpoints.append(endpoint)
    return endpoints
