"""Approvals: asking a supervisor for a step and deciding it. Case closure is the first kind.

A counsellor (or a supervisor) asks to close a case: the case goes to *pending closure*
and an ``Approval`` waits for the supervisors of the case's line. One of them, never the
person who asked, approves (the case closes and its retention clock starts) or rejects
(the case goes back to *in progress*). Both steps are audited; the reasons are sealed under
the case's key (they may name people) and never go into the audit trail. A supervisor who
reached the case by break glass does not decide: the line's own supervisors do.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import actions
from cases.approvals import approval_kind_get, approval_kind_register
from cases.errors import CaseError
from cases.models import CASE_CLOSURE, Approval, ApprovalStatus, Case, CaseStatus
from cases.selectors.access import cases_visible_to
from cases.services.cases import case_status_set
from helpline.access import supervises_line
from helpline.audit.services import audit_record
from helpline.models import Role, Staff
from helpline.vault.services import seal

MAX_REASON_LENGTH = 2000
# From these a case may be put up for closure.
CLOSABLE_STATUSES = [CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.REOPENED]


class ApprovalError(CaseError):
    """A request or decision that is not allowed; the message is safe to show the user."""


class SelfApprovalError(ApprovalError):
    """The person who asked tried to decide their own request."""


def _reason_clean(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ApprovalError(_("Say why."))
    if len(reason) > MAX_REASON_LENGTH:
        raise ApprovalError(_("The reason is too long."))
    return reason


def may_decide(*, staff: Staff, approval: Approval) -> bool:
    """A supervisor of the case's line who did not ask for it."""
    return (
        staff.role == Role.SUPERVISOR
        and approval.requested_by_id != staff.pk
        and supervises_line(staff, approval.case.line_id)
    )


@transaction.atomic
def case_close_request(*, actor: Staff, case: Case, reason: str) -> Approval:
    """Ask a supervisor to close ``case``: it goes to pending closure until one decides."""
    if actor.role not in (Role.COUNSELLOR, Role.SUPERVISOR):
        raise Case.DoesNotExist
    locked = cases_visible_to(actor.user).select_for_update(of=("self",)).filter(pk=case.pk).first()
    if locked is None:
        raise Case.DoesNotExist
    if locked.shredded_at is not None:
        raise ApprovalError(_("This case's content was destroyed at the end of its retention period."))
    if locked.status not in CLOSABLE_STATUSES:
        raise ApprovalError(_("This case cannot be put up for closure now."))
    reason = _reason_clean(reason, required=True)
    approval = Approval(case=locked, kind=CASE_CLOSURE, requested_by=actor)
    seal(approval, "request_reason", reason)
    approval.save(force_insert=True)
    case_status_set(actor=actor, case=locked, to_status=CaseStatus.PENDING_CLOSURE)
    audit_record(
        action=actions.APPROVAL_REQUESTED,
        actor=actor.user,
        record=approval,
        details={"kind": CASE_CLOSURE, "case": locked.pk},
    )
    return approval


@transaction.atomic
def approval_decide(*, actor: Staff, approval: Approval, approve: bool, reason: str = "") -> Approval:
    """Approve or reject a pending request. The person who asked can never decide it."""
    locked = Approval.objects.select_for_update(of=("self",)).select_related("case__data_key").get(pk=approval.pk)
    kind = approval_kind_get(locked.kind)
    if kind is None or actor.role != Role.SUPERVISOR or not supervises_line(actor, locked.case.line_id):
        # An unregistered kind belongs to the app that wrote it, decided by its own service.
        raise Approval.DoesNotExist
    if locked.requested_by_id == actor.pk:
        raise SelfApprovalError(_("You asked for this yourself: another supervisor decides it."))
    if not locked.is_pending:
        raise ApprovalError(_("This has already been decided."))
    reason = _reason_clean(reason, required=not approve)  # a refusal always says why
    locked.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    if reason:
        seal(locked, "decision_reason", reason)
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    if kind.on_decided:
        kind.on_decided(approval=locked, approved=approve, actor=actor)
    audit_record(
        action=actions.APPROVAL_APPROVED if approve else actions.APPROVAL_REJECTED,
        actor=actor.user,
        record=locked,
        details={"kind": locked.kind, "case": locked.case_id},
    )
    return locked


def _case_closure_decided(*, approval: Approval, approved: bool, actor: Staff) -> None:
    case = Case.objects.select_for_update(of=("self",)).get(pk=approval.case_id)
    if case.status != CaseStatus.PENDING_CLOSURE:
        return  # moved on meanwhile; the decision is recorded, the status stays
    case_status_set(actor=actor, case=case, to_status=CaseStatus.CLOSED if approved else CaseStatus.IN_PROGRESS)


approval_kind_register(code=CASE_CLOSURE, label=gettext_lazy("Case closure"), on_decided=_case_closure_decided)
