"""Reads for the web chat: what one child may see of their own conversation, and nothing else.

Every read is scoped by the contact the connection proved it owns (it holds the
sender token); message ids from the channel layer are never trusted alone.
"""

import uuid

from django.utils import timezone

from helpline.models import Channel, ChannelEndpoint, Contact, ContactStatus, Direction, Message, MessageStatus
from helpline.services.surveys import SURVEY_WINDOW, survey_questions
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


ENDED_STATUSES = frozenset({ContactStatus.WRAPUP, ContactStatus.CLOSED})


def webchat_survey_may_answer(contact: Contact) -> bool:
    """A conversation a counsellor ended (not a blocked sender's, which is closed from the start)."""
    return contact.status in ENDED_STATUSES and contact.ended_at is not None and not contact.blocked


def webchat_survey_frame(*, contact_id: str) -> dict | None:
    """The survey frame for the child's ended conversation, or None.

    None when the line has no survey, the conversation is still open, it was
    answered already, or it ended longer ago than SMS would still accept answers.
    Questions only: nothing about the conversation or the counsellor.
    """
    contact = (
        Contact.objects.select_related("line")
        .filter(pk=contact_id, channel=Channel.WEBCHAT, survey_response__isnull=True)
        .first()
    )
    if contact is None or not webchat_survey_may_answer(contact):
        return None
    if contact.ended_at <= timezone.now() - SURVEY_WINDOW:
        return None
    questions = survey_questions(contact)
    if not questions:
        return None
    return {"type": "survey", "questions": questions}
