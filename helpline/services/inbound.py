"""Write paths for what reaches the line: an inbound message, a new contact, the block list check.

Every channel (SMS, WhatsApp, web chat) comes through ``message_receive``, so a
message is stored, deduplicated, encrypted and queued the same way whatever its
origin. Replies go out through ``helpline.services.outbound``.
"""

import functools
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from helpline.aliases import alias_new
from helpline.hours import line_is_open
from helpline.models import (
    Channel,
    ChannelEndpoint,
    Contact,
    ContactStatus,
    Direction,
    InboundReceipt,
    Message,
    MessageStatus,
)
from helpline.models.conversations import MAX_BODY_LENGTH, OPEN_STATUSES, RISK_PRIORITY, STATUS_RANK, RiskFlag
from helpline.rawsql import Columns, insert_values, mark_saved
from helpline.realtime import broadcast_after_commit, contact_group, line_group
from helpline.retry import retry_on_integrity_error
from helpline.risk import risk_phrase_found
from helpline.services.blocks import block_active_for
from helpline.services.outbound import message_queue_automatic
from helpline.services.surveys import (
    SURVEY_WINDOW,
    survey_answer_fits,
    survey_reply,
    survey_stop,
    survey_window_open,
)
from helpline.vault.blind_index import IdentifierKind, blind_index
from helpline.vault.models import DataKey
from helpline.vault.services import datakey_create, seal

# How long a handled webhook that stored no Message (a survey answer) is remembered, to drop its retries.
RECEIPT_KEEP = timedelta(days=7)


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
    (None for a survey answer) with ``duplicate=True`` and changes nothing, even
    under concurrent delivery.
    """
    if len(body) > MAX_BODY_LENGTH:
        raise ValueError(f"A message may hold at most {MAX_BODY_LENGTH} characters")
    sender_index = sender_index_for(channel=endpoint.channel, address=sender)

    # A retried webhook stored this message already, or another request opened the same
    # contact a moment before us: the losing insert fails and the next attempt finds theirs.
    # Retried webhooks are rare, so the first attempt relies on the constraint instead of a query.
    def attempt_once(attempt: int) -> Inbound:
        if attempt == 0:
            joined = _message_join(
                endpoint=endpoint, sender_index=sender_index, body=body, provider_id=provider_id, media=list(media)
            )
            if joined is not None:
                return joined
        return _message_receive(
            endpoint=endpoint,
            sender=sender,
            sender_index=sender_index,
            body=body,
            provider_id=provider_id,
            media=list(media),
            language=language,
            age_band=age_band,
            look_for_duplicate=attempt > 0,
        )

    return retry_on_integrity_error(attempt_once)


def _message_join(*, endpoint, sender_index, body, provider_id, media) -> Inbound | None:
    """The common case in two statements and no explicit transaction: a message joining an open contact.

    Most messages join a conversation under way that has no survey, no block and no new risk
    flag to raise. The contact and its key are read without a lock; the body is sealed under
    that key; then one INSERT stores the message only if the contact, locked by that very
    statement, is still in the state the decision was made on (still open, same key, not
    blocked, no survey, same language, and still flagged if the flag was what let the risk
    check be skipped). When it is not, or anything else applies, None: the caller takes the
    full path in one transaction (``_message_receive``). A retried webhook fails the INSERT on
    the unique provider id, as there. Measured: docs/PERFORMANCE.md, inbound, fourth pass.
    """
    line = endpoint.line
    if line.survey:
        return None  # survey answers leave receipts, looked for on the full path
    now = timezone.now()
    contact = _joinable_contact(line=line, sender_index=sender_index, now=now, lock=False)
    if (
        contact is None
        or contact.status not in OPEN_STATUSES
        or contact.blocked
        or contact.survey_step is not None
        or contact.data_key.is_shredded
    ):
        return None
    already_flagged = contact.risk_flag in (RiskFlag.CONFIRMED, RiskFlag.SUGGESTED)
    if not already_flagged and risk_phrase_found(line=line, text=body, language=contact.language):
        return None  # the flag is raised on the full path
    message = _inbound_message(contact=contact, endpoint=endpoint, body=body, provider_id=provider_id, media=media)
    sql, fields = _join_insert_sql()
    values = insert_values(message, fields, connection)
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        # Inside a caller's transaction, a savepoint: a retried webhook's failed INSERT leaves it usable.
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    *values,
                    contact.pk,
                    *OPEN_STATUSES,
                    contact.data_key_id,
                    contact.language,
                    not already_flagged,
                    RiskFlag.CONFIRMED,
                    RiskFlag.SUGGESTED,
                ],
            )
            if cursor.rowcount != 1:
                return None  # the contact changed meanwhile
    mark_saved(message, connection)
    _announce(contact=contact, message=message, queue_changed=False)
    return Inbound(message=message, contact=contact, duplicate=False)


def _announce(*, contact, message, queue_changed: bool) -> None:
    """After commit: the contact's consoles hear of the message; the line's, when the queue changed."""
    event = {"type": "contact.message", "contact_id": str(contact.pk), "message_id": str(message.pk)}
    broadcast_after_commit(contact_group(contact.pk), event)
    if queue_changed:
        # Only a new or re-prioritised contact changes the queue; announcing every message
        # to every console of the line would grow with the square of the live conversations.
        broadcast_after_commit(line_group(contact.line_id), {"type": "queue.changed", "line_id": contact.line_id})


@functools.cache
def _join_insert_sql() -> tuple[str, list]:
    """``_message_join``'s INSERT (a message whose contact is checked and locked by the same statement)."""
    fields = [field for field in Message._meta.local_concrete_fields if field.attname != "contact_id"]
    columns = [f'"{field.column}"' for field in fields] + ['"contact_id"']
    statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    # Identifiers come from the models; every value is a parameter.
    sql = (
        f"INSERT INTO {Message._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(['%s'] * len(fields))}, c.id FROM {Contact._meta.db_table} c "
        f"WHERE c.id = %s AND c.status IN ({statuses}) AND c.data_key_id = %s AND NOT c.blocked "
        "AND c.survey_step IS NULL AND c.language = %s AND (%s OR c.risk_flag IN (%s, %s))"
    )
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF c"  # SQLite (the embedded mode) has no row locks: its writes are serialised
    return sql, fields


def _inbound_message(*, contact, endpoint, body, provider_id, media) -> Message:
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
    return message


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
    contact = _joinable_contact(line=line, sender_index=sender_index, now=now, lock=True)
    # Survey answers (the only webhooks that store no Message) leave a receipt instead; their
    # retries are found here, after the lock that queued them behind the first delivery.
    # Lines without a survey have none to look for.
    if provider_id and (look_for_duplicate or line.survey):
        if receipt := _receipt_find(channel=endpoint.channel, provider_id=provider_id):
            return receipt
    if contact is not None and survey_window_open(contact):
        if survey_answer_fits(contact=contact, text=body):
            if provider_id:
                # Before the answer: a concurrent retry of it fails here and is found on the next attempt.
                InboundReceipt.objects.create(contact=contact, channel=endpoint.channel, provider_id=provider_id)
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
    message = _inbound_message(contact=contact, endpoint=endpoint, body=body, provider_id=provider_id, media=media)
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
    _announce(contact=contact, message=message, queue_changed=opened or flagged)
    return Inbound(message=message, contact=contact, duplicate=False)


def _receipt_find(*, channel, provider_id) -> Inbound | None:
    rows = InboundReceipt.objects.select_related("contact").filter(channel=channel, provider_id=provider_id)[:1]
    receipt = next(iter(rows), None)
    return Inbound(message=None, contact=receipt.contact, duplicate=True) if receipt else None


@transaction.atomic
def inbound_receipts_expire(*, now=None) -> int:
    """Forget receipts older than RECEIPT_KEEP (a periodic job, registered in helpline.apps)."""
    deleted, _ = InboundReceipt.objects.filter(received_at__lt=(now or timezone.now()) - RECEIPT_KEEP).delete()
    return deleted


def _joinable_contact(*, line, sender_index, now, lock: bool) -> Contact | None:
    """The sender's newest open contact, or one closed with its survey under way, with its data key (``lock``: locked).

    The same query as ``_contact_for_update`` with an open-or-survey condition, run from SQL
    written once per process: every webhook makes it, and building it through the ORM cost
    more CPU than the rest of the webhook's database work (docs/PERFORMANCE.md, inbound).
    Rows become models through each field's own database converters, as the ORM does.
    """
    sql, columns = _joinable_contact_sql(lock)
    sender_index_field = Contact._meta.get_field("sender_index")
    params = [
        line.pk,
        sender_index_field.get_db_prep_value(sender_index, connection),
        *OPEN_STATUSES,
        now - SURVEY_WINDOW,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = columns.convert(connection, row)
    contact_count = len(Contact._meta.concrete_fields)
    contact = Contact.from_db(connection.alias, None, values[:contact_count])
    contact.data_key = DataKey.from_db(connection.alias, None, values[contact_count:])
    return contact


@functools.cache
def _joinable_contact_sql(lock: bool) -> tuple[str, Columns]:
    """The lookup's SQL (every column of the contact and of its data key) and its columns' converters."""
    columns = Columns().add(connection, "c", Contact).add(connection, "k", DataKey)
    statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    # Identifiers come from the models; every value is a parameter.
    sql = (
        f"SELECT {columns.select()} FROM {Contact._meta.db_table} c "  # noqa: S608
        f"JOIN {DataKey._meta.db_table} k ON k.id = c.data_key_id "
        f"WHERE c.line_id = %s AND c.sender_index = %s "
        f"AND (c.status IN ({statuses}) OR (c.survey_step IS NOT NULL AND c.ended_at > %s)) "
        "ORDER BY c.arrived_at DESC LIMIT 1"
    )
    if lock and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF c"  # SQLite (the embedded mode) has no row locks: its writes are serialised
    return sql, columns


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
        alias=alias_new(line_id=line.pk),
        status=ContactStatus.CLOSED if blocked else ContactStatus.WAITING,
        ended_at=(now or timezone.now()) if blocked else None,
    )
    seal(contact, "sender", sender)
    contact.save(force_insert=True)
    return contact


def sender_is_blocked(*, line, sender_index, now=None) -> bool:
    return block_active_for(line=line, sender_index=sender_index, now=now) is not None


def _auto_reply_on_open(*, contact, blocked, now) -> None:
    line = contact.line
    # In the child's language (the web chat's choice, else the line's first), not the request's.
    with translation.override(contact.language or None):
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
