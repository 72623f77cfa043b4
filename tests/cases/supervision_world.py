"""Building blocks for the supervision, approvals, list and retention tests (plain functions)."""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case, CaseStatus, ContactWrapup
from helpline.models import Contact, ContactStatus, Staff
from helpline.vault.models import DataKey
from helpline.vault.services import datakey_create


def staff_of(user) -> Staff:
    return Staff.objects.get(user=user)


def case_make(
    *,
    line,
    counsellor=None,
    status=CaseStatus.OPEN,
    risk="none",
    categories=(),
    created_at=None,
    closed_at=None,
    last_note_at=None,
    created_by=None,
) -> Case:
    """A case as the wrap-up leaves it; dates may be moved to the past."""
    owner = staff_of(counsellor) if counsellor else None
    case = Case.objects.create(
        line=line,
        counsellor=owner,
        created_by=owner or staff_of(created_by),
        status=status,
        risk_level=risk,
        categories=list(categories),
        data_key=datakey_create(),
        closed_at=closed_at if closed_at is not None else (timezone.now() if status == CaseStatus.CLOSED else None),
        last_note_at=last_note_at,
    )
    if created_at is not None:
        Case.objects.filter(pk=case.pk).update(created_at=created_at)
        case.refresh_from_db()
    return case


def contact_age(contact: Contact, *, days: float) -> Contact:
    """As if ``contact`` had ended (and closed) ``days`` ago."""
    ended = timezone.now() - timedelta(days=days)
    Contact.objects.filter(pk=contact.pk).update(status=ContactStatus.CLOSED, ended_at=ended, arrived_at=ended)
    contact.refresh_from_db()
    return contact


def contact_link(contact: Contact, case: Case, *, by) -> None:
    """Link ``contact`` to ``case`` the way the wrap-up does (a wrap-up under the contact's key)."""
    staff = staff_of(by)
    ContactWrapup.objects.create(
        contact=contact,
        line=contact.line,
        channel=contact.channel,
        counsellor=staff,
        recorded_by=staff,
        data_key=contact.data_key,
        case=case,
    )


def is_shredded(record) -> bool:
    return DataKey.objects.get(pk=record.data_key_id).is_shredded
