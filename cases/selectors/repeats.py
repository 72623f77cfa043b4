"""Repeat contacts: earlier cases of the same sender on the same line, found by blind index only.

The sender's identifier is never read: a platform contact carries its sender's
blind index (``Contact.sender_index``), a contact logged by hand the caller's
(``ContactWrapup.caller_index``), and phone numbers share one index whatever the
channel, so a phone call from a number that texted before finds that case.

**The access rule** (docs/CASES.md, "Repeat contacts as an access path"). A repeat contact is an access path
into a case the counsellor does not otherwise see, so it is narrow:

- the contact is **held by the one linking it**: its wrap-up is theirs, and a platform
  contact is still assigned to them (live, or ended in their hands); a contact logged on a
  colleague's behalf does not count for the recorder;
- its sender's blind index is **equal to that of a contact already linked to the case**;
- the case is **on the contact's line** (so on one of the counsellor's lines), and it is
  **neither closed nor destroyed** by retention.

Only then is the case offered and may the contact be linked to it; the link is marked
(``CaseContact.via_repeat``), audited (``case.access_via_repeat_contact``) and shown on the
case's timeline, and from then on the counsellor sees the case because a contact they
handled is on it. Without such a contact, a case id or a reference gives nothing.
"""

from django.db.models import Q, QuerySet

from cases.models import Case, CaseStatus, ContactWrapup


def wrapup_sender_index(wrapup: ContactWrapup) -> str | None:
    if wrapup.caller_index:
        return wrapup.caller_index
    if wrapup.contact_id is not None:
        return wrapup.contact.sender_index or None
    return None


def wrapup_held_by(wrapup: ContactWrapup, staff) -> bool:
    """The wrap-up is the staff member's own, and so is its platform contact (live or ended)."""
    if wrapup.counsellor_id != staff.pk:
        return False
    return wrapup.contact_id is None or wrapup.contact.counsellor_id == staff.pk


def repeat_cases_for(*, wrapup: ContactWrapup) -> QuerySet[Case]:
    """Cases of the line linked to other contacts of this sender, newest first (not yet linked to this one)."""
    return repeat_cases_for_sender(line_id=wrapup.line_id, index=wrapup_sender_index(wrapup), wrapup=wrapup)


def repeat_cases_for_sender(*, line_id: int, index: str | None, wrapup: ContactWrapup | None = None) -> QuerySet[Case]:
    """Live cases of the line that a contact of sender ``index`` is already linked to, newest first."""
    if not index:
        return Case.objects.none()
    same_sender = ContactWrapup.objects.filter(line_id=line_id).filter(
        Q(contact__sender_index=index) | Q(caller_index=index)
    )
    cases = Case.objects.filter(line_id=line_id, shredded_at__isnull=True).exclude(status=CaseStatus.CLOSED)
    if wrapup is not None and wrapup.pk is not None:
        same_sender = same_sender.exclude(pk=wrapup.pk)
        cases = cases.exclude(contact_links__wrapup=wrapup)
    return cases.filter(pk__in=same_sender.filter(case_links__isnull=False).values("case_links__case")).order_by(
        "-created_at"
    )


def repeat_cases_offered(*, staff, wrapup: ContactWrapup) -> QuerySet[Case]:
    """The repeat cases ``staff`` may link ``wrapup`` to: none unless they hold it."""
    if wrapup.pk is None or not wrapup_held_by(wrapup, staff):
        return Case.objects.none()
    return repeat_cases_for(wrapup=wrapup)
