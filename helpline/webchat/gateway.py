"""The web chat's gateway: "sending" is telling the child's open socket that a reply is ready.

The event carries ids only; the socket's consumer reads the message from the
database for its own contact and sends the text. If the child is not
connected, the event is lost harmlessly: the page replays the conversation
from the database when it reconnects.

``asend`` awaits the channel layer natively; a reply is delivered that way
straight after its commit (``helpline.services.outbound.message_send``), and
``send`` is what the task worker calls when that did not happen (a crash). Straight after
commit the reply is claimed and marked delivered in one transaction and the event follows that
commit (``outcome_before_send``); the worker records it delivered only after the event went out,
so a worker killed in between leaves it claimed for the sweep. If the event cannot be sent, the
reply goes back in line for its task. The event is the conversation's only one for the reply
(``helpline.realtime.reply_event``):
the consoles in the group refresh on it and find the reply delivered. A process killed in the
instant between that commit and the hand-over leaves the reply stored as delivered but
unannounced: the page and the consoles show it when they next reconnect or reload (the
history replay), as they do for any event the layer dropped. A process killed between the
reply's commit and its delivery leaves it to its task, due after a grace: only then do the
other consoles in the group (a second tab, a supervisor reading along) hear of it.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils.translation import gettext

from helpline.gateways import GatewayError, Outgoing, SendResult
from helpline.models import MessageStatus
from helpline.realtime import contact_group, reply_event

logger = logging.getLogger(__name__)


class WebChatGateway:
    # The event names the message; the outbox need not decrypt the text, the address or the endpoint's secret.
    sends_ids_only = True
    # Its delivery event tells the consoles too: no separate "delivered" status event (MessageOutbox.announce).
    announces = True

    def send(self, outgoing: Outgoing) -> SendResult:
        return async_to_sync(self.asend)(outgoing)

    def outcome_before_send(self, outgoing: Outgoing) -> SendResult:
        """What ``asend`` returns when it does not raise: the claim records it in its own transaction."""
        return SendResult(provider_id=None, status=MessageStatus.DELIVERED)

    async def asend(self, outgoing: Outgoing) -> SendResult:
        # The conversation's one event for this reply: the child's socket shows it, the consoles
        # refresh and find it delivered (recorded in the claim's transaction, committed before this).
        event = reply_event(contact_id=outgoing.contact_id, message_id=outgoing.message_id)
        try:
            await get_channel_layer().group_send(contact_group(outgoing.contact_id), event)
        except Exception as error:
            # The realtime layer is down: retry later rather than call it delivered.
            logger.warning("Web chat delivery of %s could not reach the channel layer", outgoing.message_id)
            raise GatewayError(gettext("The chat server could not be reached."), permanent=False) from error
        return self.outcome_before_send(outgoing)
