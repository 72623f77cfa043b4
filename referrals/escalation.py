"""Escalating overdue referrals: the periodic job the embedded worker runs every minute.

A referral sent and not acknowledged by ``acknowledge_by``, or not closed by ``complete_by``,
is escalated once for each: an event on the referral, an audit record, an alert to the
line's supervisors (referrals.alerts) and an e-mail notice to the agency's users
(referrals.notices). Safe on several workers at once: the periodic runner
runs it once per interval, and each referral is claimed with ``FOR UPDATE SKIP LOCKED`` and
marked in the same transaction, so two runs never alert twice for the same deadline.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from helpline.audit.services import audit_record
from referrals import actions
from referrals.alerts import supervisors_alert
from referrals.lifecycle import AWAITING_ACKNOWLEDGEMENT, AWAITING_COMPLETION
from referrals.models import NoticeKind, Referral
from referrals.services.events import referral_event_add
from referrals.services.notices import agency_notice_queue

BATCH = 200


def referrals_escalate(*, now=None) -> dict:
    now = now or timezone.now()
    return {
        "acknowledge": _escalate(
            now=now,
            statuses=AWAITING_ACKNOWLEDGEMENT,
            deadline="acknowledge_by",
            marker="acknowledge_escalated_at",
            kind="acknowledge_overdue",
        ),
        "complete": _escalate(
            now=now,
            statuses=AWAITING_COMPLETION,
            deadline="complete_by",
            marker="complete_escalated_at",
            kind="complete_overdue",
        ),
    }


def _escalate(*, now, statuses, deadline: str, marker: str, kind: str) -> int:
    count = 0
    while True:
        with transaction.atomic():
            due = list(
                Referral.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("agency", "case")
                .filter(status__in=statuses, **{f"{deadline}__lte": now, f"{marker}__isnull": True})
                .order_by(deadline)[:BATCH]
            )
            for referral in due:
                setattr(referral, marker, now)
                referral.save(update_fields=[marker])
                referral_event_add(referral, kind=kind, actor=None, detail=kind)
                audit_record(
                    action=actions.REFERRAL_ESCALATED,
                    record=referral,
                    details={"kind": kind, "agency": referral.agency.code},
                )
                supervisors_alert(referral=referral, kind=kind)
                agency_notice_queue(referral=referral, kind=NoticeKind.OVERDUE)
        count += len(due)
        if len(due) < BATCH:
            return count


def case_has_overdue_referral(now) -> Q:
    """For the case list's "overdue" filter (cases.overdue): a referral past its acknowledgement deadline."""
    return Q(
        pk__in=Referral.objects.filter(status__in=AWAITING_ACKNOWLEDGEMENT, acknowledge_by__lte=now).values("case_id")
    )
