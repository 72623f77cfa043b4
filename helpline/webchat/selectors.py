"""Reads for the web chat: what one child may see of their own conversation, and nothing else.

Every read is scoped by the contact the connection proved it owns (it holds the
sender token); message ids from the channel layer are never trusted alone.
"""

import uuid

from helpline.models import Channel, ChannelEndpoint, Contact, Direction, Message, MessageStatus
from helpline.vault.services import unseal

# An outbound message reaches the child once its gateway has it; a queued one is
# not shown yet, so "delivered" in the console and "on the child's screen" agree.
HANDED_OVER = frozenset({MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ})
HISTORY_LIMIT = 500


def webchat_endpoint_for(*, line_slug: str) -> ChannelEndpoint | None:
    """The line's active web chat endpoint, or None (the page and socket then answer "not found")."""
    return (
        ChannelEndpoint.objects.select_related("line")
        .filter(channel=Channel.WEBCHAT, address=line_slug, line__slug=line_slug, active=True)
        .first()
    )


def webchat_contact_status(*, contact_id: str) -> str | None:
    return Contact.objects.filter(pk=contact_id, channel=Channel.WEBCHAT).values_list("status", flat=True).first()


def message_frame(message: Message) -> dict | None:
    """The frame a child's page gets for one message, or None when it is not for the child's eyes (yet)."""
    outbound = message.direction == Direction.OUTBOUND
    if outbound and message.status not in HANDED_OVER:
        return None
    body = unseal(message, "body")
    if not isinstance(body, str):
        return None  # crypto-shredded: nothing left to show
    return {
        "type": "message",
        "direction": "out" if outbound else "in",
        # The page knows its own messages by the id it gave them, so a resent one is not shown twice.
        "id": str(message.pk) if outbound else (message.provider_id or str(message.pk)),
        "body": body,
        "at": message.created_at.isoformat(),
    }


def webchat_history(*, contact_id: str) -> list[dict]:
    """The conversation so far, oldest first, as the child's page shows it (no names, no internal notes)."""
    messages = (
        Message.objects.filter(contact_id=contact_id, channel=Channel.WEBCHAT)
        .select_related("contact__data_key")
        .order_by("-created_at", "-pk")[:HISTORY_LIMIT]
    )
    frames = (message_frame(message) for message in reversed(list(messages)))
    return [frame for frame in frames if frame is not None]


def webchat_message_frame(*, contact_id: str, message_id: str) -> tuple[dict | None, str | None]:
    """One message of the contact as a frame, and the contact's current status."""
    try:
        message_id = str(uuid.UUID(str(message_id)))
    except ValueError:
        # Not an id of ours: nothing to show, and no reason to end the child's connection.
        return None, webchat_contact_status(contact_id=contact_id)
    message = (
        Message.objects.filter(pk=message_id, contact_id=contact_id, channel=Channel.WEBCHAT)
        .select_related("contact__data_key")
        .first()
    )
    if message is None:
        return None, webchat_contact_status(contact_id=contact_id)
    return message_frame(message), message.contact.status
