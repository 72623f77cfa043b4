"""Permission-aware reads, and the one place conversation content is unsealed (and its reading audited).

The permission rule for conversations lives here and nowhere else:

- a counsellor sees and writes only the open conversations assigned to them;
- a supervisor sees every open conversation of their lines (reading along is audited);
  closed ones are reached through case records, with a stated reason;
- administrators and authority users see none.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from helpline.access import role_of
from helpline.actions import CONTENT_READ
from helpline.audit.services import audit_record
from helpline.login_throttle import login_lockouts_of
from helpline.models import (
    BlockedSender,
    Contact,
    ContactNote,
    ContactStatus,
    Direction,
    LoginUnlock,
    Message,
    Role,
    Staff,
)
from helpline.models.conversations import OPEN_STATUSES
from helpline.vault.services import unseal


def contacts_visible_to(user) -> QuerySet[Contact]:
    role = role_of(user)
    if role == Role.COUNSELLOR:
        return Contact.objects.filter(counsellor=user.staff, status__in=OPEN_STATUSES)
    if role == Role.SUPERVISOR:
        return Contact.objects.filter(line__in=user.staff.lines.all(), status__in=OPEN_STATUSES)
    return Contact.objects.none()


def contacts_writable_by(user) -> QuerySet[Contact]:
    """Only the person holding a conversation writes in it, supervisors included."""
    if role_of(user) not in (Role.COUNSELLOR, Role.SUPERVISOR):
        return Contact.objects.none()
    return Contact.objects.filter(counsellor=user.staff, status__in=[ContactStatus.ACTIVE, ContactStatus.WRAPUP])


def queue_for(user) -> QuerySet[Contact]:
    """Waiting contacts on the user's lines: highest priority first, then longest waiting."""
    if role_of(user) not in (Role.COUNSELLOR, Role.SUPERVISOR):
        return Contact.objects.none()
    return (
        Contact.objects.filter(status=ContactStatus.WAITING, line__in=user.staff.lines.all())
        .select_related("line")
        .order_by("-priority", "arrived_at")
    )


# Before any message: the cut-off when nobody has replied yet.
_BEFORE_ANY_MESSAGE = datetime(2000, 1, 1, tzinfo=UTC)


def with_reply_wait(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Annotate ``awaiting_reply_since``: when the child's oldest message without a reply arrived.

    A reply is a message a person sent (automatic ones do not count); None means
    nothing waits for an answer. Computed in SQL, so lists sort by it.
    """
    last_reply = (
        Message.objects.filter(contact=OuterRef("pk"), direction=Direction.OUTBOUND, automatic=False)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    first_unanswered = (
        Message.objects.filter(
            contact=OuterRef("pk"), direction=Direction.INBOUND, created_at__gt=OuterRef("replied_at")
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    return contacts.annotate(replied_at=Coalesce(Subquery(last_reply), Value(_BEFORE_ANY_MESSAGE))).annotate(
        awaiting_reply_since=Subquery(first_unanswered)
    )


def my_conversations(user) -> QuerySet[Contact]:
    """The user's own live conversations with their unread counts, whoever has waited longest first.

    Active conversations come before those in wrap-up (the child can no longer write in those).
    """
    if role_of(user) not in (Role.COUNSELLOR, Role.SUPERVISOR):
        return Contact.objects.none()
    unread = Count(
        "messages",
        filter=Q(messages__direction=Direction.INBOUND)
        & (Q(counsellor_seen_at__isnull=True) | Q(messages__created_at__gt=F("counsellor_seen_at"))),
    )
    held = Contact.objects.filter(counsellor=user.staff, status__in=[ContactStatus.ACTIVE, ContactStatus.WRAPUP])
    return (
        with_reply_wait(held.annotate(unread=unread))
        .annotate(
            wrapping_up=Case(
                When(status=ContactStatus.WRAPUP, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .select_related("line")
        .order_by("wrapping_up", F("awaiting_reply_since").asc(nulls_last=True), "accepted_at")
    )


def conversation_messages(contact: Contact) -> QuerySet[Message]:
    return contact.messages.select_related("contact__data_key").order_by("created_at")


def contacts_waiting_too_long(user) -> QuerySet[Contact]:
    """Waiting contacts past their line's alert threshold, for supervisors."""
    if role_of(user) != Role.SUPERVISOR:
        return Contact.objects.none()
    now = timezone.now()
    lines = list(user.staff.lines.all())
    if not lines:
        return Contact.objects.none()
    # Each line has its own threshold; a handful of lines makes a small OR in SQL.
    overdue = reduce(
        or_, (Q(line=line, arrived_at__lt=now - timedelta(seconds=line.wait_alert_seconds)) for line in lines)
    )
    return queue_for(user).filter(overdue)


def line_staff(user) -> QuerySet[Staff]:
    """Counsellors and supervisors on the supervisor's lines, with their live load."""
    if role_of(user) != Role.SUPERVISOR:
        return Staff.objects.none()
    return (
        Staff.objects.filter(lines__in=user.staff.lines.all(), role__in=[Role.COUNSELLOR, Role.SUPERVISOR])
        .distinct()
        .annotate(
            load=Count(
                "contacts", filter=Q(contacts__status__in=[ContactStatus.ACTIVE, ContactStatus.WRAPUP]), distinct=True
            )
        )
        .select_related("user")
        .order_by("user__username")
    )


def line_staff_sign_ins(user) -> list[dict]:
    """The supervisor's colleagues (never themselves) with their recent failed sign-ins and live unlocks."""
    team = [member for member in line_staff(user) if member.pk != user.staff.pk]
    lockouts = login_lockouts_of([member.user for member in team])
    unlocked_until = dict(
        LoginUnlock.objects.filter(user__in=[member.user_id for member in team], expires_at__gt=timezone.now())
        .values_list("user_id", "expires_at")
        .order_by("expires_at")
    )
    return [
        {"member": member, "lockouts": lockouts[member.user_id], "unlocked_until": unlocked_until.get(member.user_id)}
        for member in team
    ]


# --- reading protected content ------------------------------------------------------------

# A conversation's content is audited when a person opens it; the refreshes that
# follow within this window (new messages arriving while it is open) are not.
READS_SESSION_KEY = "helpline_conversation_reads"
READ_AUDIT_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class ConversationContent:
    contact: Contact
    entries: list[dict]  # [{"message": Message, "body": str | Shredded}], oldest first
    notes: list[dict]  # handover notes addressed to the reader: [{"note": ContactNote, "body": ...}]
    draft: str  # what the reader had typed and not sent


def conversation_read(*, request, contact: Contact, action: str, reason: str, opened: bool) -> ConversationContent:
    """Unseal a conversation for the person making ``request``, and audit that they read it.

    The one way views reach message bodies, handover notes and drafts. The
    caller has already found ``contact`` through a permission selector
    (``contacts_writable_by`` or ``contacts_visible_to``). The read is audited
    as ``action`` every time the conversation is ``opened``, and otherwise once
    per READ_AUDIT_WINDOW_SECONDS per session (live refreshes, the history
    returned after sending a reply or deciding a flag).
    """
    staff = request.user.staff
    rows = conversation_messages(contact).select_related("author__user")
    entries = [{"message": message, "body": unseal(message, "body")} for message in rows]
    handovers = ContactNote.objects.filter(contact=contact, recipient=staff).select_related(
        "author__user", "contact__data_key"
    )
    notes = [{"note": note, "body": unseal(note, "body")} for note in handovers]
    draft = contact.drafts.filter(staff=staff).select_related("contact__data_key").first()
    draft_text = unseal(draft, "body") if draft else ""
    _audit_read(request, contact=contact, action=action, reason=reason, opened=opened)
    return ConversationContent(
        contact=contact, entries=entries, notes=notes, draft=draft_text if isinstance(draft_text, str) else ""
    )


def _audit_read(request, *, contact, action: str, reason: str, opened: bool) -> None:
    reads = request.session.get(READS_SESSION_KEY, {})
    now = time.time()
    key = f"{action}:{contact.pk}"
    if not opened and now - reads.get(key, 0) < READ_AUDIT_WINDOW_SECONDS:
        return
    audit_record(action=action, actor=request.user, request=request, record=contact, reason=reason)
    reads = {name: stamp for name, stamp in reads.items() if now - stamp < READ_AUDIT_WINDOW_SECONDS}
    reads[key] = now
    request.session[READS_SESSION_KEY] = reads


PREVIEW_WORDS = 8
PREVIEW_CHARACTERS = 60
PREVIEW_READ_REASON = "First words of the last message in the conversation list"


def conversation_previews(*, request, contacts) -> dict:
    """The first words of each conversation's last message, for the person's own list of conversations.

    ``contacts`` come from a permission selector (``my_conversations``). Unsealing is a
    read of content, audited like opening the conversation (``content.read``), once per
    READ_AUDIT_WINDOW_SECONDS per conversation and session (the list refreshes often).
    Returns {contact_id: {"text": str, "outbound": bool}}; a shredded body gives no entry.
    """
    contacts = list(contacts)
    if not contacts:
        return {}
    last = Message.objects.filter(contact=OuterRef("pk"), automatic=False).order_by("-created_at").values("pk")[:1]
    last_ids = (
        Contact.objects.filter(pk__in=[contact.pk for contact in contacts])
        .annotate(last_id=Subquery(last))
        .values_list("last_id", flat=True)
    )
    messages = Message.objects.filter(pk__in=[pk for pk in last_ids if pk]).select_related("contact__data_key")
    by_contact = {contact.pk: contact for contact in contacts}
    previews = {}
    for message in messages:
        body = unseal(message, "body")
        if not isinstance(body, str):
            continue
        words = body.split()
        text = " ".join(words[:PREVIEW_WORDS])
        if len(text) > PREVIEW_CHARACTERS:
            text = text[: PREVIEW_CHARACTERS - 1].rstrip()
        if len(words) > PREVIEW_WORDS or len(text) < len(" ".join(words)):
            text += "…"
        previews[message.contact_id] = {"text": text, "outbound": message.direction == Direction.OUTBOUND}
        _audit_read(
            request,
            contact=by_contact[message.contact_id],
            action=CONTENT_READ,
            reason=PREVIEW_READ_REASON,
            opened=False,
        )
    return previews


def blocks_visible_to(user) -> QuerySet[BlockedSender]:
    """The blocks in force on a supervisor's lines, newest first (the list never shows who is blocked)."""
    if role_of(user) != Role.SUPERVISOR:
        return BlockedSender.objects.none()
    now = timezone.now()
    return (
        BlockedSender.objects.filter(line__in=user.staff.lines.all())
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("line", "created_by__user")
        .order_by("-created_at")
    )
