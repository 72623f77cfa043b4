"""Write paths for the live queue: presence, accepting, assigning, transferring, ending, flags, drafts.

Each function is one transaction and announces what changed only after it commits.
Who may do what is checked here, against the rule in helpline.selectors.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpline import actions
from helpline.access import supervises_line
from helpline.audit.services import audit_record
from helpline.models import Contact, ContactNote, ContactStatus, Draft, Presence, RiskFlag, RiskKind, Role, Staff
from helpline.models.conversations import RISK_PRIORITY
from helpline.realtime import broadcast_after_commit, contact_group, line_group, staff_group
from helpline.services.surveys import survey_start
from helpline.signals import contact_closed, contact_ended, send_on_commit
from helpline.vault.services import seal

HELD_STATUSES = [ContactStatus.ACTIVE, ContactStatus.WRAPUP]


class RoutingError(Exception):
    """A routing step that cannot happen now; the message is for the person who tried."""


@transaction.atomic
def presence_set(*, staff: Staff, presence: str, actor: Staff | None = None) -> Staff:
    actor = actor or staff
    if actor.pk != staff.pk and not _supervises(actor, staff):
        raise PermissionDenied
    if presence not in Presence.values:
        raise RoutingError(_("Unknown presence."))
    Staff.objects.filter(pk=staff.pk).update(presence=presence)
    staff.presence = presence
    if actor.pk != staff.pk:
        audit_record(
            action=actions.PRESENCE_SET_BY_SUPERVISOR,
            actor=actor.user,
            subject=staff.user,
            details={"presence": presence},
        )
    _announce_staff(staff)
    return staff


@transaction.atomic
def contact_accept(*, staff: Staff, contact_id=None) -> Contact:
    """Take the next suitable waiting contact, or the one chosen. Two counsellors never get the same one."""
    # Locking our own row serialises this counsellor's accepts, so capacity holds.
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    if staff.role not in (Role.COUNSELLOR, Role.SUPERVISOR):
        raise PermissionDenied
    if staff.presence != Presence.AVAILABLE:
        raise RoutingError(_("Set yourself available to take conversations."))
    if Contact.objects.filter(counsellor=staff, status__in=HELD_STATUSES).count() >= staff.capacity:
        raise RoutingError(_("You are at your limit of conversations. End one before taking another."))
    candidates = Contact.objects.filter(status=ContactStatus.WAITING, line__in=staff.lines.all())
    if staff.languages:
        candidates = candidates.filter(Q(language__in=staff.languages) | Q(language=""))
    if contact_id is not None:
        candidates = candidates.filter(pk=contact_id)
    contact = candidates.order_by("-priority", "arrived_at").select_for_update(skip_locked=True).first()
    if contact is None:
        if contact_id is not None:
            raise RoutingError(_("This conversation is no longer waiting, or is in a language you do not work in."))
        raise RoutingError(_("Nobody is waiting for you right now."))
    _hand_over(contact=contact, to_staff=staff, from_status=ContactStatus.WAITING)
    audit_record(action=actions.CONTACT_ACCEPTED, actor=staff.user, record=contact)
    return contact


@transaction.atomic
def contact_assign(*, actor: Staff, contact: Contact, to_staff: Staff) -> Contact:
    """A supervisor gives a waiting or live contact to someone, whatever the language or presence."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if not _supervises_line(actor, contact.line_id) or not to_staff.lines.filter(pk=contact.line_id).exists():
        raise PermissionDenied
    if contact.status not in (ContactStatus.WAITING, *HELD_STATUSES):
        raise RoutingError(_("This conversation has ended."))
    previous = contact.counsellor_id
    _hand_over(contact=contact, to_staff=to_staff, from_status=contact.status)
    audit_record(
        action=actions.CONTACT_ASSIGNED,
        actor=actor.user,
        subject=to_staff.user,
        record=contact,
        details={"from": previous},
    )
    return contact


@transaction.atomic
def contact_transfer(*, actor: Staff, contact: Contact, to_staff: Staff, note: str = "") -> Contact:
    """Pass a live conversation to a colleague or supervisor, with a private handover note.

    The child notices nothing: no message is sent and the conversation goes on.
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.counsellor_id != actor.pk and not _supervises_line(actor, contact.line_id):
        raise PermissionDenied
    if contact.status not in HELD_STATUSES:
        raise RoutingError(_("Only a live conversation can be transferred."))
    if to_staff.pk == contact.counsellor_id:
        raise RoutingError(_("This conversation is already with them."))
    if (
        to_staff.role not in (Role.COUNSELLOR, Role.SUPERVISOR)
        or not to_staff.lines.filter(pk=contact.line_id).exists()
    ):
        raise RoutingError(_("They do not work on this line."))
    if note.strip():
        handover = ContactNote(contact=contact, author=actor, recipient=to_staff)
        seal(handover, "body", note.strip())
        handover.save()
    previous = Staff.objects.filter(pk=contact.counsellor_id).first()
    _hand_over(contact=contact, to_staff=to_staff, from_status=contact.status)
    Draft.objects.filter(contact=contact, staff=previous).delete()
    if previous:
        _announce_staff(previous)
    audit_record(action=actions.CONTACT_TRANSFERRED, actor=actor.user, subject=to_staff.user, record=contact)
    return contact


@transaction.atomic
def contact_end(*, actor: Staff, contact: Contact) -> Contact:
    """End the conversation; the counsellor goes on to wrap-up. A line's survey goes out to the child."""
    contact = _held_by(actor, contact)
    if contact.status != ContactStatus.ACTIVE:
        raise RoutingError(_("This conversation has already ended."))
    contact.status = ContactStatus.WRAPUP
    contact.ended_at = timezone.now()
    contact.save(update_fields=["status", "ended_at"])
    survey_start(contact=contact)
    broadcast_after_commit(contact_group(contact.pk), {"type": "contact.ended", "contact_id": str(contact.pk)})
    _announce_staff(actor)
    broadcast_after_commit(line_group(contact.line_id), {"type": "queue.changed", "line_id": contact.line_id})
    audit_record(action=actions.CONTACT_ENDED, actor=actor.user, record=contact)
    send_on_commit(contact_ended, contact_id=contact.pk, actor_id=actor.pk)
    return contact


@transaction.atomic
def contact_close(*, actor: Staff, contact: Contact) -> Contact:
    """Finish wrap-up: the contact leaves the counsellor's list and frees capacity."""
    contact = _held_by(actor, contact)
    if contact.status != ContactStatus.WRAPUP:
        raise RoutingError(_("End the conversation before closing it."))
    contact.status = ContactStatus.CLOSED
    contact.save(update_fields=["status"])
    Draft.objects.filter(contact=contact).delete()
    _announce_staff(actor)
    audit_record(action=actions.CONTACT_CLOSED, actor=actor.user, record=contact)
    send_on_commit(contact_closed, contact_id=contact.pk, actor_id=actor.pk)
    return contact


@transaction.atomic
def risk_flag_decide(*, actor: Staff, contact: Contact, confirmed: bool, kind: str = RiskKind.GENERAL) -> Contact:
    """A person confirms (of a kind, such as sextortion) or clears a risk flag; both are recorded.

    A confirmation alerts the line's supervisors live (``risk.confirmed``, ids only).
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.counsellor_id != actor.pk and not _supervises_line(actor, contact.line_id):
        raise PermissionDenied
    if kind not in RiskKind.values:
        raise RoutingError(_("Unknown kind of risk."))
    contact.risk_flag = RiskFlag.CONFIRMED if confirmed else RiskFlag.CLEARED
    contact.risk_kind = kind if confirmed else RiskKind.GENERAL
    contact.risk_flag_by = actor
    contact.risk_flag_at = timezone.now()
    contact.priority = RISK_PRIORITY if confirmed else 0
    contact.save(update_fields=["risk_flag", "risk_kind", "risk_flag_by", "risk_flag_at", "priority"])
    audit_record(
        action=actions.RISK_CONFIRMED if confirmed else actions.RISK_CLEARED,
        actor=actor.user,
        record=contact,
        details={"kind": contact.risk_kind} if contact.risk_kind else None,
    )
    broadcast_after_commit(line_group(contact.line_id), {"type": "queue.changed", "line_id": contact.line_id})
    event = "risk.confirmed" if confirmed else "risk.cleared"
    broadcast_after_commit(
        line_group(contact.line_id), {"type": event, "contact_id": str(contact.pk), "line_id": contact.line_id}
    )
    return contact


@transaction.atomic
def draft_save(*, staff: Staff, contact: Contact, body: str) -> Draft | None:
    """Keep what the counsellor is typing, sealed; an empty draft is removed."""
    contact = _held_by(staff, contact)
    if not body.strip():
        Draft.objects.filter(contact=contact, staff=staff).delete()
        return None
    draft = Draft.objects.filter(contact=contact, staff=staff).select_related("contact__data_key").first()
    draft = draft or Draft(contact=contact, staff=staff)
    seal(draft, "body", body)
    draft.save()
    return draft


@transaction.atomic
def contact_mark_seen(*, staff: Staff, contact: Contact) -> None:
    Contact.objects.filter(pk=contact.pk, counsellor=staff).update(counsellor_seen_at=timezone.now())


def _hand_over(*, contact: Contact, to_staff: Staff, from_status: str) -> None:
    """Compare-and-set: the contact changes hands only if nobody changed it since we read it."""
    now = timezone.now()
    status = ContactStatus.ACTIVE if from_status == ContactStatus.WAITING else from_status
    changed = Contact.objects.filter(pk=contact.pk, status=from_status, counsellor=contact.counsellor_id).update(
        status=status, counsellor=to_staff, accepted_at=contact.accepted_at or now, counsellor_seen_at=None
    )
    if not changed:
        raise RoutingError(_("Someone else has just taken this conversation."))
    contact.refresh_from_db()
    broadcast_after_commit(line_group(contact.line_id), {"type": "queue.changed", "line_id": contact.line_id})
    broadcast_after_commit(contact_group(contact.pk), {"type": "contact.assigned", "contact_id": str(contact.pk)})
    _announce_staff(to_staff)


def _held_by(staff: Staff, contact: Contact) -> Contact:
    contact = Contact.objects.select_for_update().select_related("data_key").get(pk=contact.pk)
    if contact.counsellor_id != staff.pk:
        raise PermissionDenied
    return contact


def _supervises_line(staff: Staff, line_id) -> bool:
    return supervises_line(staff, line_id)


def _supervises(supervisor: Staff, staff: Staff) -> bool:
    return supervisor.role == Role.SUPERVISOR and supervisor.lines.filter(pk__in=staff.lines.all()).exists()


def _announce_staff(staff: Staff) -> None:
    broadcast_after_commit(staff_group(staff.pk), {"type": "staff.changed", "staff_id": staff.pk})
    for line_id in staff.lines.values_list("pk", flat=True):
        broadcast_after_commit(line_group(line_id), {"type": "staff.changed", "staff_id": staff.pk})
