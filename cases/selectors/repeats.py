"""Repeat contacts: earlier cases of the same sender on the same line, found by blind index only.

The sender's identifier is never read: a platform contact carries its sender's
blind index (``Contact.sender_index``), a contact logged by hand the caller's
(``ContactWrapup.caller_index``), and phone numbers share one index whatever the
channel, so a phone call from a number that texted before finds that case.
"""

from django.db.models import Q, QuerySet

from cases.models import Case, ContactWrapup


def wrapup_sender_index(wrapup: ContactWrapup) -> str | None:
    if wrapup.caller_index:
        return wrapup.caller_index
    if wrapup.contact_id is not None:
        return wrapup.contact.sender_index or None
    return None


def repeat_cases_for(*, wrapup: ContactWrapup) -> QuerySet[Case]:
    """Cases of the line linked to other contacts of this sender, newest first (not yet linked to this one)."""
    return repeat_cases_for_sender(line_id=wrapup.line_id, index=wrapup_sender_index(wrapup), wrapup=wrapup)


def repeat_cases_for_sender(*, line_id: int, index: str | None, wrapup: ContactWrapup | None = None) -> QuerySet[Case]:
    if not index:
        return Case.objects.none()
    same_sender = ContactWrapup.objects.filter(line_id=line_id).filter(
        Q(contact__sender_index=index) | Q(caller_index=index)
    )
    cases = Case.objects.filter(line_id=line_id)
    if wrapup is not None and wrapup.pk is not None:
        same_sender = same_sender.exclude(pk=wrapup.pk)
        cases = cases.exclude(contact_links__wrapup=wrapup)
    return cases.filter(contact_links__wrapup__in=same_sender).distinct().order_by("-created_at")
