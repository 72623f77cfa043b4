"""Selectors for a supervisor's view of caseloads: counts per counsellor, stale high-risk cases,
requests waiting for their decision, break-glass accesses. No content is unsealed here.

Everything starts from ``cases_visible_to(user)`` (a supervisor: the cases of their lines).
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.approvals import approval_kind_label, approval_kinds_registered
from cases.models import LIVE_STATUSES, Approval, ApprovalStatus, Case, CaseStatus
from cases.overdue import HIGH_RISK_LEVELS, high_risk_without_recent_note
from cases.selectors.access import cases_visible_to
from cases.timeline import TimelineEntry
from helpline.access import role_of
from helpline.models import Role, Staff
from helpline.vault.services import unseal
from helpline.vault.values import SHREDDED

SHOWN = 50


@dataclass
class CaseloadRow:
    staff: Staff | None
    by_status: dict[str, int] = field(default_factory=dict)
    high_risk: int = 0
    total: int = 0


def caseloads(user) -> list[CaseloadRow]:
    """Live cases of the supervisor's lines per assigned counsellor, by status, with high-risk counts."""
    counts = {status: Count("pk", filter=Q(status=status)) for status in LIVE_STATUSES}
    rows = (
        cases_visible_to(user)
        .filter(status__in=LIVE_STATUSES)
        .order_by()
        .values("counsellor")
        .annotate(total=Count("pk"), high_risk=Count("pk", filter=Q(risk_level__in=HIGH_RISK_LEVELS)), **counts)
    )
    rows = list(rows)
    staff = Staff.objects.select_related("user").in_bulk([row["counsellor"] for row in rows if row["counsellor"]])
    result = [
        CaseloadRow(
            staff=staff.get(row["counsellor"]),
            by_status={status: row[status] for status in LIVE_STATUSES},
            high_risk=row["high_risk"],
            total=row["total"],
        )
        for row in rows
    ]
    return sorted(result, key=lambda row: (row.staff is None, row.staff.user.get_username() if row.staff else ""))


def cases_high_risk_stale(user, *, now=None) -> QuerySet[Case]:
    """High or imminent risk cases nobody has written a note on for N hours, oldest note first."""
    return (
        cases_visible_to(user)
        .filter(high_risk_without_recent_note(now or timezone.now()))
        .select_related("line", "counsellor__user")
        .order_by("last_note_at", "created_at")
    )


def approvals_pending_for(user) -> QuerySet[Approval]:
    """Requests on the cases of the supervisor's own lines (never those reached by break glass)."""
    if role_of(user) != Role.SUPERVISOR:
        return Approval.objects.none()
    return (
        Approval.objects.filter(
            status=ApprovalStatus.PENDING, kind__in=approval_kinds_registered(), case__line__in=user.staff.lines.all()
        )
        .select_related("case", "case__line", "requested_by__user")
        .order_by("requested_at")
    )


def approval_for_decision(user, approval_id) -> Approval | None:
    """A pending request the supervisor may see (their line), or None."""
    return approvals_pending_for(user).filter(pk=approval_id).first()


def supervision_timeline(case: Case) -> list[TimelineEntry]:
    """The case's approvals and break-glass accesses, for its timeline (cases.timeline).

    Called while the case page is read (that read is audited there); the approval reasons
    it unseals are part of the case's content.
    """
    entries = []
    # Kinds other apps decide themselves are on the timeline through those apps' own sources.
    approvals = case.approvals.filter(kind__in=approval_kinds_registered()).select_related(
        "case__data_key", "requested_by__user", "decided_by__user"
    )
    for approval in approvals.order_by("requested_at"):
        label = approval_kind_label(approval.kind)
        reason = unseal(approval, "request_reason")
        entries.append(
            TimelineEntry(
                at=approval.requested_at,
                kind="approval",
                title=_("%(kind)s asked for") % {"kind": label},
                detail="" if reason is SHREDDED else reason,
                actor=approval.requested_by.user.get_username(),
            )
        )
        if approval.decided_at:
            decision = unseal(approval, "decision_reason")
            title = _("%(kind)s approved") if approval.status == ApprovalStatus.APPROVED else _("%(kind)s rejected")
            entries.append(
                TimelineEntry(
                    at=approval.decided_at,
                    kind="approval",
                    title=title % {"kind": label},
                    detail="" if decision is SHREDDED else decision,
                    actor=approval.decided_by.user.get_username(),
                )
            )
    for access in case.break_glass.select_related("staff__user").order_by("opened_at"):
        entries.append(
            TimelineEntry(
                at=access.opened_at,
                kind="break_glass",
                title=_("Opened from outside the line (break glass)"),
                detail=access.reason,
                actor=access.staff.user.get_username(),
            )
        )
    return entries


def pending_closure_count(user) -> int:
    return cases_visible_to(user).filter(status=CaseStatus.PENDING_CLOSURE).count()
