"""The web chat's gateway: "sending" is telling the child's open socket that a reply is ready.

The event carries ids only; the socket's consumer reads the message from the
database for its own contact and sends the text. If the child is not
connected, the event is lost harmlessly: the page replays the conversation
from the database when it reconnects.

``asend`` awaits the channel layer natively; a reply is delivered that way
straight after its commit (``helpline.services.outbound.message_send``), and
``send`` is what the task worker calls when that did not happen (a crash). Straight after
commit, the reply is claimed and marked delivered in one transaction and the event follows
that commit (``outcome_before_send``); if the event cannot be sent, the reply goes back in
line for its task. A process killed in the instant between that commit and the hand-over
leaves the reply stored as delivered but unannounced: the page shows it when it next
reconnects (the history replay), as it does for any event the layer dropped.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils.translation import gettext

from helpline.gateways import GatewayError, Outgoing, SendResult
from helpline.models import MessageStatus
from helpline.realtime import contact_group

logger = logging.getLogger(__name__)


class WebChatGateway:
    # The event names the message; the outbox need not decrypt the text, the address or the endpoint's secret.
    sends_ids_only = True

    def send(self, outgoing: Outgoing) -> SendResult:
        return async_to_sync(self.asend)(outgoing)

    def outcome_before_send(self, outgoing: Outgoing) -> SendResult:
        """What ``asend`` returns when it does not raise: the claim records it in its own transaction."""
        return SendResult(provider_id=None, status=MessageStatus.DELIVERED)

    async def asend(self, outgoing: Outgoing) -> SendResult:
        event = {"type": "webchat.deliver", "contact_id": outgoing.contact_id, "message_id": outgoing.message_id}
        try:
            await get_channel_layer().group_send(contact_group(outgoing.contact_id), event)
        except Exception as error:
            # The realtime layer is down: retry later rather than call it delivered.
            logger.warning("Web chat delivery of %s could not reach the channel layer", outgoing.message_id)
            raise GatewayError(gettext("The chat server could not be reached."), permanent=False) from error
        return self.outcome_before_send(outgoing)
