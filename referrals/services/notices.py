"""Queueing the portal's e-mail notices (referrals.notices): inside the transaction of the step that caused them."""

from django.db import transaction
from django.utils import timezone

from helpline.outbox import outbox_enqueue, outbox_get
from referrals.models import AgencyNotice, Referral
from referrals.notices import OUTBOX_NAME, notice_recipients


@transaction.atomic
def agency_notice_queue(*, referral: Referral, kind: str) -> AgencyNotice | None:
    """Tell ``referral``'s agency that something waits for it in the portal (``NoticeKind``): one notice,
    sent by the outbox after the caller's transaction commits, never blocking it. Nothing is queued
    for an agency with no one to tell (no notice address, no authority user with an e-mail)."""
    if not notice_recipients(referral.agency):
        return None
    notice = AgencyNotice.objects.create(
        agency=referral.agency, referral=referral, kind=kind, next_attempt_at=timezone.now()
    )
    outbox_enqueue(outbox_get(OUTBOX_NAME), notice.pk)
    return notice
