"""Write paths for messages: receiving, sending, delivery status. One place per action.

Every channel (SMS, WhatsApp, web chat) comes through here, so a message is
stored, deduplicated, encrypted and queued the same way whatever its origin.
"""

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpline.gateways import GatewayError, Outgoing, SendResult, gateway_for
from helpline.hours import line_is_open
from helpline.models import (
    BlockedSender,
    Channel,
    ChannelEndpoint,
    Contact,
    ContactStatus,
    Direction,
    Message,
    MessageStatus,
)
from helpline.models.conversations import OPEN_STATUSES, RISK_PRIORITY, STATUS_RANK, Draft, RiskFlag
from helpline.realtime import broadcast_after_commit, contact_group, line_group
from helpline.risk import risk_phrase_found
from helpline.surveys import SURVEY_WINDOW, survey_answer_fits, survey_reply, survey_stop, survey_window_open
from helpline.vault.blind_index import IdentifierKind, blind_index
from helpline.vault.services import datakey_create, seal, unseal

logger = logging.getLogger(__name__)

MAX_BODY_LENGTH = 4096


@dataclass(frozen=True)
class Media:
    content_type: str
    url: str


@dataclass(frozen=True)
class Inbound:
    message: Message | None  # None for a survey answer, which is not part of the conversation
    contact: Contact
    duplicate: bool


def sender_index_for(*, channel: str, address: str) -> str:
    kind = IdentifierKind.HANDLE if channel == Channel.WEBCHAT else IdentifierKind.PHONE
    return blind_index(kind=kind, value=address)


def message_receive(
    *,
    endpoint: ChannelEndpoint,
    sender: str,
    body: str,
    provider_id: str | None = None,
    media: list[Media] = (),
    language: str = "",
    age_band: str = "",
) -> Inbound:
    """Store an inbound message once, in the sender's open contact (opening one if needed).

    A repeated ``provider_id`` (a retried webhook) returns the stored message
    with ``duplicate=True`` and changes nothing, even under concurrent delivery.
    """
    if len(body) > MAX_BODY_LENGTH:
        raise ValueError(f"A message may hold at most {MAX_BODY_LENGTH} characters")
    sender_index = sender_index_for(channel=endpoint.channel, address=sender)
    for attempt in range(3):
        try:
            return _message_receive(
                endpoint=endpoint,
                sender=sender,
                sender_index=sender_index,
                body=body,
                provider_id=provider_id,
                media=list(media),
                language=language,
                age_band=age_band,
                # Retried webhooks are rare: the first attempt relies on the unique
                # constraint instead of a query, and only a conflict makes us look.
                look_for_duplicate=attempt > 0,
            )
        except IntegrityError:
            # A retried webhook stored this message already, or another request opened
            # the same contact a moment before us; the next attempt finds theirs.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _message_receive(
    *, endpoint, sender, sender_index, body, provider_id, media, language, age_band, look_for_duplicate
) -> Inbound:
    if provider_id and look_for_duplicate:
        existing = Message.objects.filter(channel=endpoint.channel, provider_id=provider_id).select_related("contact")
        if found := existing.first():
            return Inbound(message=found, contact=found.contact, duplicate=True)

    now = timezone.now()
    line = endpoint.line
    # Most messages join a conversation under way: one query finds it with its key.
    joinable = Q(status__in=OPEN_STATUSES) | Q(survey_step__isnull=False, ended_at__gt=now - SURVEY_WINDOW)
    contact = _contact_for_update(joinable, line=line, sender_index=sender_index)
    if contact is not None and survey_window_open(contact):
        if survey_answer_fits(contact=contact, text=body):
            # A survey answer is kept apart from the conversation: the counsellor never sees it.
            survey_reply(contact=contact, text=body)
            return Inbound(message=None, contact=contact, duplicate=False)
        # Anything else is the child writing again: the survey stops and the message is
        # handled like any other, so nothing a child says is ever dropped.
        survey_stop(contact=contact)
        if contact.status not in OPEN_STATUSES:
            contact = None
    # The block list decides whether a new conversation is queued; a blocked sender's
    # messages gather in one closed contact.
    blocked = (
        contact.blocked if contact is not None else sender_is_blocked(line=line, sender_index=sender_index, now=now)
    )
    if contact is None and blocked:
        contact = _contact_for_update(Q(blocked=True), line=line, sender_index=sender_index)
    opened = contact is None
    if opened:
        # A concurrent first message fails this insert (or a retried webhook the message's):
        # message_receive retries the whole transaction, which then finds theirs.
        contact = contact_open(
            endpoint=endpoint,
            sender=sender,
            sender_index=sender_index,
            language=language,
            age_band=age_band,
            blocked=blocked,
            now=now,
        )
    message = Message(
        contact=contact,
        channel=endpoint.channel,
        direction=Direction.INBOUND,
        provider_id=provider_id or None,
        status=MessageStatus.RECEIVED,
        status_rank=STATUS_RANK[MessageStatus.RECEIVED],
        media_count=len(media),
        media_types=[item.content_type for item in media],
    )
    seal(message, "body", body)
    if media:
        seal(message, "media_urls", json.dumps([item.url for item in media]))
    message.save()

    if opened:
        _auto_reply_on_open(contact=contact, blocked=blocked, now=now)
    if blocked:
        return Inbound(message=message, contact=contact, duplicate=False)
    flagged = contact.risk_flag not in (RiskFlag.CONFIRMED, RiskFlag.SUGGESTED) and risk_phrase_found(
        line=line, text=body, language=contact.language
    )
    if flagged:
        Contact.objects.filter(pk=contact.pk).update(risk_flag=RiskFlag.SUGGESTED, priority=RISK_PRIORITY)
    event = {"type": "contact.message", "contact_id": str(contact.pk), "message_id": str(message.pk)}
    broadcast_after_commit(contact_group(contact.pk), event)
    if opened or flagged:
        # Only a new or re-prioritised contact changes the queue; announcing every message
        # to every console of the line would grow with the square of the live conversations.
        broadcast_after_commit(line_group(line.pk), {"type": "queue.changed", "line_id": line.pk})
    return Inbound(message=message, contact=contact, duplicate=False)


def _contact_for_update(condition: Q, *, line, sender_index) -> Contact | None:
    return (
        Contact.objects.select_for_update(of=("self",))
        .select_related("data_key")
        .filter(condition, line=line, sender_index=sender_index)
        .order_by("-arrived_at")
        .first()
    )


def contact_open(*, endpoint, sender, sender_index, language, age_band, blocked=False, now=None) -> Contact:
    """A new contact for a sender, with its own data key; waiting, or closed at once if blocked.

    Called inside the caller's transaction; the partial unique constraint refuses a second
    open contact for the same sender, so callers retry on IntegrityError.
    """
    line = endpoint.line
    contact = Contact(
        line=line,
        endpoint=endpoint,
        channel=endpoint.channel,
        sender_index=sender_index,
        data_key=datakey_create(),
        language=language or (line.languages[0] if line.languages else ""),
        age_band=age_band,
        blocked=blocked,
        status=ContactStatus.CLOSED if blocked else ContactStatus.WAITING,
        ended_at=(now or timezone.now()) if blocked else None,
    )
    seal(contact, "sender", sender)
    contact.save(force_insert=True)
    return contact


def sender_is_blocked(*, line, sender_index, now=None) -> bool:
    now = now or timezone.now()
    return (
        BlockedSender.objects.filter(line=line, sender_index=sender_index)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exists()
    )


def _auto_reply_on_open(*, contact, blocked, now) -> None:
    line = contact.line
    if blocked:
        text = line.blocked_message or _("We can't take your message on this number.")
    elif not line_is_open(line, now):
        text = line.out_of_hours_message or _("We are closed now. Please write again during our opening hours.")
    else:
        text = line.busy_message or _("Thank you for writing. A counsellor will answer you as soon as possible.")
    if contact.channel == Channel.WEBCHAT and not blocked and line_is_open(line, now):
        # The web chat page shows its own waiting notice.
        return
    message_queue_automatic(contact=contact, body=text)


def message_queue_automatic(*, contact: Contact, body: str) -> Message:
    """An automatic reply (waiting notice, survey question): sent like a counsellor's, marked automatic."""
    return _message_queue_outbound(contact=contact, body=body, author=None, automatic=True)


@transaction.atomic
def message_send(*, contact: Contact, body: str, author) -> Message:
    """A counsellor's reply: stored sealed, then delivered by a background task."""
    body = body.strip()
    if contact.status in (ContactStatus.WRAPUP, ContactStatus.CLOSED):
        raise ValueError(_("This conversation has ended; nothing more can be sent in it."))
    if not body:
        raise ValueError(_("An empty message cannot be sent."))
    if len(body) > MAX_BODY_LENGTH:
        raise ValueError(_("A message may hold at most %(count)d characters.") % {"count": MAX_BODY_LENGTH})
    message = _message_queue_outbound(contact=contact, body=body, author=author, automatic=False)
    Draft.objects.filter(contact=contact, staff=author).delete()
    broadcast_after_commit(
        contact_group(contact.pk),
        {"type": "contact.message", "contact_id": str(contact.pk), "message_id": str(message.pk)},
    )
    return message


def _message_queue_outbound(*, contact, body, author, automatic) -> Message:
    from helpline.tasks import message_deliver

    message = Message(
        contact=contact,
        channel=contact.channel,
        direction=Direction.OUTBOUND,
        author=author,
        automatic=automatic,
        status=MessageStatus.QUEUED,
        status_rank=STATUS_RANK[MessageStatus.QUEUED],
    )
    seal(message, "body", body)
    message.save()
    message_id = str(message.pk)
    transaction.on_commit(lambda: message_deliver.enqueue(message_id))
    return message


@transaction.atomic
def message_status_update(
    *, channel: str, provider_id: str, status: str, error_code: str = "", error_message: str = ""
) -> bool:
    """Move a message's delivery status forward only. Returns whether anything changed."""
    if status not in STATUS_RANK:
        return False
    rank = STATUS_RANK[status]
    message = (
        Message.objects.select_for_update()
        .filter(channel=channel, provider_id=provider_id, direction=Direction.OUTBOUND)
        .first()
    )
    if message is None or rank <= message.status_rank:
        return False
    message.status = status
    message.status_rank = rank
    message.error_code = error_code[:16]
    message.error_message = error_message[:255]
    message.save(update_fields=["status", "status_rank", "error_code", "error_message"])
    _announce_status(message)
    return True


def _announce_status(message: Message) -> None:
    broadcast_after_commit(
        contact_group(message.contact_id),
        {"type": "message.status", "contact_id": str(message.contact_id), "message_id": str(message.pk)},
    )


def message_deliver_attempt(*, message_id: str) -> str:
    """Hand one queued outbound message to its channel's gateway; retry or fail it in plain words.

    Safe to run twice: only a QUEUED message is sent. The gateway call happens
    outside any transaction, so a slow provider never holds a row lock.
    """
    outgoing = _delivery_claim(message_id=message_id)
    if outgoing is None:
        return "skipped"
    try:
        result = gateway_for(outgoing.channel).send(outgoing)
    except GatewayError as error:
        return _delivery_failed(message_id=message_id, error=error)
    return _delivery_succeeded(message_id=message_id, result=result)


@transaction.atomic
def _delivery_claim(*, message_id: str) -> Outgoing | None:
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("contact__endpoint__data_key", "contact__data_key")
        .filter(pk=message_id, direction=Direction.OUTBOUND, status=MessageStatus.QUEUED)
        .first()
    )
    if message is None:
        return None
    contact = message.contact
    endpoint = contact.endpoint
    message.status = MessageStatus.SENDING
    message.status_rank = STATUS_RANK[MessageStatus.SENDING]
    message.send_attempts += 1
    message.sending_since = timezone.now()
    message.save(update_fields=["status", "status_rank", "send_attempts", "sending_since"])
    return Outgoing(
        message_id=str(message.pk),
        contact_id=str(contact.pk),
        channel=message.channel,
        endpoint_address=endpoint.address,
        endpoint_account=endpoint.provider_account,
        endpoint_secret=_text_or_empty(unseal(endpoint, "provider_secret")),
        to=_text_or_empty(unseal(contact, "sender")),
        body=_text_or_empty(unseal(message, "body")),
    )


@transaction.atomic
def _delivery_succeeded(*, message_id: str, result: SendResult) -> str:
    message = Message.objects.select_for_update().get(pk=message_id)
    message.provider_id = result.provider_id or message.provider_id
    # A status callback may already have moved it further.
    if STATUS_RANK.get(result.status, 0) > message.status_rank:
        message.status = result.status
        message.status_rank = STATUS_RANK[result.status]
    message.save(update_fields=["provider_id", "status", "status_rank"])
    _announce_status(message)
    return message.status


@transaction.atomic
def _delivery_failed(*, message_id: str, error: GatewayError) -> str:
    from helpline.tasks import message_deliver

    message = Message.objects.select_for_update().get(pk=message_id)
    retry = not error.permanent and message.send_attempts < settings.HELPLINE_SEND_MAX_ATTEMPTS
    if retry:
        message.status = MessageStatus.QUEUED
        message.status_rank = STATUS_RANK[MessageStatus.QUEUED]
        delay = timedelta(seconds=settings.HELPLINE_SEND_RETRY_SECONDS * 2 ** (message.send_attempts - 1))
        transaction.on_commit(lambda: message_deliver.using(run_after=timezone.now() + delay).enqueue(message_id))
    else:
        message.status = MessageStatus.FAILED
        message.status_rank = STATUS_RANK[MessageStatus.FAILED]
    message.error_code = error.code[:16]
    message.error_message = error.reason[:255]
    message.save(update_fields=["status", "status_rank", "error_code", "error_message"])
    logger.warning("Delivery of message %s failed (code %s, retry %s)", message_id, error.code or "-", retry)
    _announce_status(message)
    return message.status


@transaction.atomic
def messages_resume_stalled(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Put back in the queue the messages a crashed worker left half-sent.

    A worker that dies between claiming a message and recording the provider's answer
    leaves it "sending". Past ``older_than`` it is queued again and delivered by the
    next worker: delivery is at least once, so in the rare case the provider had
    accepted it before the crash, the child receives it twice rather than never.
    """
    from helpline.tasks import message_deliver

    stalled = list(
        Message.objects.select_for_update(skip_locked=True)
        .filter(
            direction=Direction.OUTBOUND,
            status=MessageStatus.SENDING,
            sending_since__lt=timezone.now() - older_than,
        )
        .values_list("pk", flat=True)
    )
    Message.objects.filter(pk__in=stalled).update(
        status=MessageStatus.QUEUED, status_rank=STATUS_RANK[MessageStatus.QUEUED], sending_since=None
    )
    for message_id in stalled:
        transaction.on_commit(lambda message_id=str(message_id): message_deliver.enqueue(message_id))
    if stalled:
        logger.warning("Queued %d message(s) again after an interrupted delivery", len(stalled))
    return len(stalled)


def _text_or_empty(value) -> str:
    # A shredded record has nothing left to send.
    return value if isinstance(value, str) else ""
