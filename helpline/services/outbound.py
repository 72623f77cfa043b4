"""Write paths for what the line sends: a counsellor's reply, an automatic reply, delivery and its status.

Every outbound message is an outbox item (``helpline.outbox``): it is stored
sealed and its delivery task is written in the same transaction, then a worker
hands it to its channel's gateway with retries and backoff. A web chat reply is
delivered straight after its commit instead, with no task (``_message_store``). Status only moves
forward, whichever arrives first: the gateway's answer or the provider's callback.
A callback may even arrive before the worker has stored the provider's id for the
message: it is kept (``PendingStatus``) and applied when the id lands.
"""

import functools
import logging
from datetime import timedelta

from django.conf import settings
from django.db import NotSupportedError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpline.gateways import GatewayError, Outgoing, SendResult, gateway_for
from helpline.models import ChannelEndpoint, Contact, ContactStatus, Direction, Message, MessageStatus, PendingStatus
from helpline.models.conversations import MAX_BODY_LENGTH, STATUS_RANK, Draft
from helpline.outbox import (
    Outbox,
    outbox_attempt,
    outbox_attempt_async,
    outbox_due,
    outbox_enqueue,
    outbox_register,
)
from helpline.rawsql import insert_values, mark_saved
from helpline.realtime import (
    broadcast_after_commit,
    contact_group,
    database_call,
    reply_event,
    run_in_turn,
    server_loop,
)
from helpline.retry import RetryPolicy
from helpline.vault.services import seal, unseal

logger = logging.getLogger(__name__)

# A status for a provider id that never landed (the send was retried under a new id, or the
# worker died before recording it) is forgotten after this long.
PENDING_STATUS_KEEP = timedelta(hours=1)
# The class of PostgreSQL advisory locks taken per provider id (two-key form: its own key space).
PROVIDER_ID_LOCK_CLASS = 0x5354


def message_queue_automatic(*, contact: Contact, body: str) -> Message:
    """An automatic reply (waiting notice, survey question): sent like a counsellor's, marked automatic."""
    message = _outbound_message(contact=contact, body=body, author=None, automatic=True)
    _message_store(message)
    return message


def message_send(*, contact: Contact, body: str, author) -> Message:
    """A counsellor's reply: stored sealed, the counsellor's draft of it removed, then delivered."""
    body = body.strip()
    if contact.status in (ContactStatus.WRAPUP, ContactStatus.CLOSED):
        raise ValueError(_("This conversation has ended; nothing more can be sent in it."))
    if not body:
        raise ValueError(_("An empty message cannot be sent."))
    if len(body) > MAX_BODY_LENGTH:
        raise ValueError(_("A message may hold at most %(count)d characters.") % {"count": MAX_BODY_LENGTH})
    message = _outbound_message(contact=contact, body=body, author=author, automatic=False)
    _message_store(message, draft_of=author)
    if not _delivers_at_once(contact.channel):
        # A reply delivered straight after commit is announced by its delivery alone (the web chat's
        # gateway sends this same event once the reply is recorded delivered): one event per reply.
        broadcast_after_commit(contact_group(contact.pk), reply_event(contact_id=contact.pk, message_id=message.pk))
    return message


def _outbound_message(*, contact, body, author, automatic) -> Message:
    message = Message(
        contact=contact,
        channel=contact.channel,
        direction=Direction.OUTBOUND,
        author=author,
        automatic=automatic,
        status=MessageStatus.QUEUED,
        status_rank=STATUS_RANK[MessageStatus.QUEUED],
        next_attempt_at=timezone.now(),
    )
    seal(message, "body", body)
    return message


def _message_store(message: Message, *, draft_of=None) -> None:
    """Store an outbound message with what delivers it (and remove ``draft_of``'s draft of it).

    A channel whose gateway sends from the event loop (the web chat's) is delivered straight after
    commit and gets no task: if this process dies first, the periodic ``outbox_overdue_deliver``
    delivers it once the grace has passed (MessageOutbox.untasked). Any other gets its task in the
    same transaction.
    """
    if not _delivers_at_once(message.channel):
        with transaction.atomic(savepoint=False):
            message.save()
            outbox_enqueue(MESSAGE_OUTBOX, message.pk)
            if draft_of is not None:
                Draft.objects.filter(contact_id=message.contact_id, staff=draft_of).delete()
        return
    _message_insert(message, draft_of=draft_of)
    transaction.on_commit(
        lambda: message_deliver_soon(
            message_id=str(message.pk), contact_id=str(message.contact_id), channel=message.channel
        ),
        robust=True,
    )


def _message_insert(message: Message, *, draft_of=None) -> None:
    """The message stored and the draft removed in one statement (PostgreSQL: a DELETE in the INSERT's WITH,
    atomic by itself, so no transaction around it); elsewhere in one transaction."""
    if draft_of is None:
        message.save()
        return
    if connection.vendor != "postgresql":
        with transaction.atomic(savepoint=False):
            message.save()
            Draft.objects.filter(contact_id=message.contact_id, staff=draft_of).delete()
        return
    sql, fields = _reply_insert_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [message.contact_id, draft_of.pk, *insert_values(message, fields, connection)])
    mark_saved(message, connection)


@functools.cache
def _reply_insert_sql() -> tuple[str, list]:
    quote = connection.ops.quote_name
    fields = Message._meta.local_concrete_fields
    draft = Draft._meta
    # Identifiers come from the models; every value is a parameter.
    return (
        f"WITH draft AS (DELETE FROM {quote(draft.db_table)} "  # noqa: S608
        f"WHERE {quote(draft.get_field('contact').column)} = %s AND {quote(draft.get_field('staff').column)} = %s) "
        f"INSERT INTO {quote(Message._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    ), fields


def _delivers_at_once(channel: str) -> bool:
    """A gateway that can send from the event loop (the web chat's) delivers straight after commit."""
    try:
        return hasattr(gateway_for(channel), "asend")
    except GatewayError:
        return False


def message_deliver_soon(*, message_id: str, contact_id: str, channel: str = "") -> None:
    """One delivery attempt now, straight after the message's commit.

    Inside the ASGI server the attempt is handed to the event loop, so the
    counsellor's request does not wait for it; elsewhere (the worker, a command,
    a test) it runs here. If the process dies first, ``outbox_overdue_deliver`` delivers it.
    """
    loop = server_loop()
    if loop is None:
        message_deliver_attempt(message_id=message_id)
        return
    # A gateway that hands over ids needs nothing read for its send: claimed and recorded in one UPDATE.
    payload = MESSAGE_OUTBOX.ids_only_payload(message_id=message_id, contact_id=contact_id, channel=channel)
    # After this conversation's earlier deliveries handed over in this process, so replies keep their order.
    run_in_turn(
        loop,
        f"deliver-{contact_id}",
        lambda: outbox_attempt_async(outbox=MESSAGE_OUTBOX, item_id=message_id, payload=payload),
        on_error=lambda error: logger.warning(
            "Immediate delivery of %s failed; the overdue sweep will deliver it", message_id, exc_info=error
        ),
    )


@transaction.atomic
def message_status_update(
    *, endpoint: ChannelEndpoint, provider_id: str, status: str, error_code: str = "", error_message: str = ""
) -> bool:
    """Move the delivery status of the message ``endpoint`` sent as ``provider_id`` forward only.

    When no message carries that id yet (the provider called back before the
    worker stored its answer), the status is kept and applied when the id lands.
    Returns whether a message changed now.
    """
    if status not in STATUS_RANK:
        return False
    found = _outbound_for_update(channel=endpoint.channel, provider_id=provider_id)
    if found is None:
        # The worker may be storing this id right now: it takes the same lock (MessageOutbox.succeeded),
        # so either it sees the kept status or we see its message.
        _provider_id_lock(channel=endpoint.channel, provider_id=provider_id)
        found = _outbound_for_update(channel=endpoint.channel, provider_id=provider_id)
    if found is None:
        _pending_status_keep(
            endpoint=endpoint,
            provider_id=provider_id,
            status=status,
            error_code=error_code,
            error_message=error_message,
        )
        return False
    changed = _status_forward(found, status=status, error_code=error_code, error_message=error_message)
    if not changed:
        return False
    found.save(update_fields=changed)
    _announce_status(found)
    return True


def _outbound_for_update(*, channel, provider_id) -> Message | None:
    return (
        Message.objects.select_for_update()
        .filter(channel=channel, provider_id=provider_id, direction=Direction.OUTBOUND)
        .first()
    )


def _status_forward(message: Message, *, status: str, error_code: str, error_message: str) -> list[str]:
    """Set ``status`` (and its error) if it is further than the message's; the changed fields."""
    if STATUS_RANK[status] <= message.status_rank:
        return []
    message.error_code = error_code[:16]
    message.error_message = error_message[:255]
    return [*_set_status(message, status), "error_code", "error_message"]


def _provider_id_lock(*, channel: str, provider_id: str) -> None:
    """Serialise, until commit, everyone storing or looking for one provider id."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [PROVIDER_ID_LOCK_CLASS, f"{channel}:{provider_id}"]
            )
    elif connection.vendor != "sqlite":
        # SQLite transactions begin IMMEDIATE (settings): writers are serialised already.
        raise NotSupportedError(f"Delivery statuses support PostgreSQL and SQLite, not {connection.vendor}.")


def _pending_status_keep(*, endpoint, provider_id, status, error_code, error_message) -> None:
    """Keep the furthest status reported for an id no message carries yet (called under the id's lock)."""
    kept = PendingStatus.objects.filter(endpoint=endpoint, provider_id=provider_id).first()
    if kept is None:
        kept = PendingStatus(endpoint=endpoint, provider_id=provider_id, status_rank=0)
    if STATUS_RANK[status] <= kept.status_rank:
        return
    kept.status, kept.status_rank = status, STATUS_RANK[status]
    kept.error_code, kept.error_message = error_code[:16], error_message[:255]
    kept.save()


def _pending_status_take(message: Message) -> list[str]:
    """Apply (forward only) and forget a status kept for the id that just landed on ``message``."""
    _provider_id_lock(channel=message.channel, provider_id=message.provider_id)
    # Only a status reported by the endpoint that sent the message applies to it.
    kept = PendingStatus.objects.filter(provider_id=message.provider_id, endpoint__contacts=message.contact_id).first()
    if kept is None:
        return []
    kept.delete()
    return _status_forward(message, status=kept.status, error_code=kept.error_code, error_message=kept.error_message)


@transaction.atomic
def pending_statuses_expire(*, now=None) -> int:
    """Forget statuses kept longer than PENDING_STATUS_KEEP (a periodic job, registered in helpline.apps)."""
    deleted, _ = PendingStatus.objects.filter(received_at__lt=(now or timezone.now()) - PENDING_STATUS_KEEP).delete()
    if deleted:
        logger.info("Forgot %d delivery status(es) for messages that never carried their provider id", deleted)
    return deleted


def _announce_status(message: Message) -> None:
    broadcast_after_commit(
        contact_group(message.contact_id),
        {"type": "message.status", "contact_id": str(message.contact_id), "message_id": str(message.pk)},
    )


def _text_or_empty(value) -> str:
    # A shredded record has nothing left to send.
    return value if isinstance(value, str) else ""


def _set_status(message: Message, status: str) -> list[str]:
    message.status = status
    message.status_rank = STATUS_RANK[status]
    return ["status", "status_rank"]


class MessageOutbox(Outbox):
    """Outbound messages: QUEUED waits, SENDING is in flight; the gateway of the channel sends."""

    name = "message"
    model = Message

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=settings.HELPLINE_SEND_MAX_ATTEMPTS, base_seconds=settings.HELPLINE_SEND_RETRY_SECONDS
        )

    def queryset(self):
        return Message.objects.filter(direction=Direction.OUTBOUND).select_related(
            "contact__endpoint__data_key", "contact__data_key"
        )

    def pending(self):
        return Q(direction=Direction.OUTBOUND, status=MessageStatus.QUEUED)

    def in_flight(self):
        return Q(direction=Direction.OUTBOUND, status=MessageStatus.SENDING)

    def untasked(self):
        # Channels delivered straight after commit (``_message_store``) get no task.
        return Q(channel__in=[channel for channel in settings.HELPLINE_GATEWAYS if _delivers_at_once(channel)])

    def begin(self, message: Message):
        contact = message.contact
        endpoint = contact.endpoint
        # The web chat hands over ids (the child's socket reads the text itself): nothing to decrypt for it.
        ids_only = getattr(gateway_for(message.channel), "sends_ids_only", False)
        outgoing = Outgoing(
            message_id=str(message.pk),
            contact_id=str(contact.pk),
            channel=message.channel,
            endpoint_address=endpoint.address,
            endpoint_account=endpoint.provider_account,
            endpoint_secret="" if ids_only else _text_or_empty(unseal(endpoint, "provider_secret")),
            to="" if ids_only else _text_or_empty(unseal(contact, "sender")),
            body="" if ids_only else _text_or_empty(unseal(message, "body")),
        )
        return outgoing, _set_status(message, MessageStatus.SENDING)

    def send(self, outgoing: Outgoing) -> SendResult:
        return gateway_for(outgoing.channel).send(outgoing)

    async def asend(self, outgoing: Outgoing) -> SendResult:
        gateway = gateway_for(outgoing.channel)
        if hasattr(gateway, "asend"):
            return await gateway.asend(outgoing)
        return await database_call(gateway.send)(outgoing)

    def outcome_before_send(self, outgoing: Outgoing) -> SendResult | None:
        # The web chat's gateway knows: a reply handed to the channel layer is delivered.
        outcome = getattr(gateway_for(outgoing.channel), "outcome_before_send", None)
        return outcome(outgoing) if outcome is not None else None

    def ids_only_payload(self, *, message_id: str, contact_id: str, channel: str) -> Outgoing | None:
        """What ``send`` needs when the channel's gateway hands over ids only, built without reading the
        message (``outbox_attempt_async``'s ``payload``); None for any other gateway."""
        try:
            ids_only = getattr(gateway_for(channel), "sends_ids_only", False)
        except GatewayError:
            return None
        if not ids_only:
            return None
        return Outgoing(
            message_id=str(message_id),
            contact_id=str(contact_id),
            channel=channel,
            endpoint_address="",
            endpoint_account="",
            endpoint_secret="",
            to="",
            body="",
        )

    def claim_recorded(self, item_id, payload: Outgoing, result: SendResult) -> bool | None:
        # One UPDATE does what the full claim and ``succeeded`` would: a queued reply has no status to keep
        # and, without a provider id, none waiting for it; a gateway that announces needs no status event.
        if result.provider_id or not getattr(gateway_for(payload.channel), "announces", False):
            return None
        claimed = Message.objects.filter(
            self.pending(), outbox_due(timezone.now()), pk=item_id, contact_id=payload.contact_id
        ).update(
            attempts=F("attempts") + 1,
            claimed_at=None,
            next_attempt_at=None,
            status=result.status,
            status_rank=STATUS_RANK[result.status],
        )
        return claimed == 1

    def succeeded(self, message: Message, result: SendResult) -> list[str]:
        message.provider_id = result.provider_id or message.provider_id
        changed = ["provider_id"]
        # A status callback may already have moved it further.
        if STATUS_RANK.get(result.status, 0) > message.status_rank:
            changed += _set_status(message, result.status)
        if result.provider_id:
            # Or have arrived before this id was stored, and be waiting for it.
            changed += _pending_status_take(message)
        return changed

    def retry_later(self, message: Message, error: GatewayError) -> list[str]:
        return [*_set_status(message, MessageStatus.QUEUED), *self._error(message, error)]

    def give_up(self, message: Message, error: GatewayError) -> list[str]:
        return [*_set_status(message, MessageStatus.FAILED), *self._error(message, error)]

    def released(self) -> dict:
        return {"status": MessageStatus.QUEUED, "status_rank": STATUS_RANK[MessageStatus.QUEUED]}

    def announce(self, message: Message) -> None:
        if message.status == MessageStatus.DELIVERED and getattr(gateway_for(message.channel), "announces", False):
            # Recorded delivered before it was sent (outcome_before_send): the delivery event that
            # follows the commit is the announcement; a failed send is announced by its retry.
            return
        _announce_status(message)

    @staticmethod
    def _error(message: Message, error: GatewayError) -> list[str]:
        message.error_code = error.code[:16]
        message.error_message = error.reason[:255]
        return ["error_code", "error_message"]


MESSAGE_OUTBOX = outbox_register(MessageOutbox())


def message_deliver_attempt(*, message_id) -> str:
    """One delivery attempt for one outbound message, now, in this thread (what the outbox task does).

    Returns the message's status afterwards, or "skipped" when there was nothing to attempt.
    """
    if outbox_attempt(outbox=MESSAGE_OUTBOX, item_id=str(message_id)) == "skipped":
        return "skipped"
    return Message.objects.filter(pk=message_id).values_list("status", flat=True).get()
