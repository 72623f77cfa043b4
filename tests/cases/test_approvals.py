"""Closing a case needs a supervisor's approval, never the requester's own."""

import pytest
from django.db import IntegrityError, connection, transaction

from cases.models import Approval, ApprovalStatus, Case, CaseStatus
from cases.services.approvals import ApprovalError, SelfApprovalError, approval_decide, case_close_request
from cases.services.supervision import case_break_glass
from helpline.audit.models import AuditEvent
from helpline.vault.services import seal, unseal
from tests.cases.supervision_world import case_make, staff_of
from tests.helpline.console.conftest import client_for

REASON = "Safe now; the school follows up"


@pytest.fixture
def case(demo_line, counsellor):
    return case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.IN_PROGRESS)


def status_of(case) -> str:
    return Case.objects.get(pk=case.pk).status


def test_the_counsellor_asks_and_a_supervisor_approves(case, counsellor, supervisor):
    approval = case_close_request(actor=staff_of(counsellor), case=case, reason=REASON)
    assert status_of(case) == CaseStatus.PENDING_CLOSURE
    decided = approval_decide(actor=staff_of(supervisor), approval=approval, approve=True)
    assert status_of(case) == CaseStatus.CLOSED
    assert Case.objects.get(pk=case.pk).closed_at is not None
    assert (decided.status, decided.requested_by, decided.decided_by) == (
        ApprovalStatus.APPROVED,
        staff_of(counsellor),
        staff_of(supervisor),
    )
    assert decided.decided_at >= decided.requested_at
    actions = list(
        AuditEvent.objects.filter(record_id=str(approval.pk)).order_by("pk").values_list("action", "actor_id")
    )
    assert actions == [("approval.requested", counsellor.pk), ("approval.approved", supervisor.pk)]


def test_a_rejection_sends_the_case_back_and_says_why(case, counsellor, supervisor):
    approval = case_close_request(actor=staff_of(counsellor), case=case, reason=REASON)
    with pytest.raises(ApprovalError):
        approval_decide(actor=staff_of(supervisor), approval=approval, approve=False, reason="  ")
    decided = approval_decide(actor=staff_of(supervisor), approval=approval, approve=False, reason="Visit first")
    assert status_of(case) == CaseStatus.IN_PROGRESS
    assert unseal(Approval.objects.select_related("case__data_key").get(pk=decided.pk), "decision_reason") == (
        "Visit first"
    )


def test_the_reasons_are_sealed_and_never_in_the_audit_trail(case, counsellor, supervisor):
    approval = case_close_request(actor=staff_of(counsellor), case=case, reason=REASON)
    approval_decide(actor=staff_of(supervisor), approval=approval, approve=False, reason="Visit the aunt first")
    with connection.cursor() as cursor:
        cursor.execute("SELECT request_reason, decision_reason FROM cases_approval")
        raw = b"".join(bytes(value) for value in cursor.fetchone())
        cursor.execute("SELECT coalesce(string_agg(t::text, '|'), '') FROM audit_auditevent t")
        audit = cursor.fetchone()[0]
    for text in (REASON, "Visit the aunt first"):
        assert text.encode() not in raw
        assert text not in audit


def test_the_requester_can_never_approve_their_own_request(case, supervisor):
    """A supervisor who asks is refused when deciding; another supervisor of the line decides."""
    approval = case_close_request(actor=staff_of(supervisor), case=case, reason=REASON)
    with pytest.raises(SelfApprovalError):
        approval_decide(actor=staff_of(supervisor), approval=approval, approve=True)
    assert status_of(case) == CaseStatus.PENDING_CLOSURE
    assert not AuditEvent.objects.filter(action="approval.approved").exists()


def test_the_database_refuses_self_approval_too(case, supervisor):
    approval = case_close_request(actor=staff_of(supervisor), case=case, reason=REASON)
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.filter(pk=approval.pk).update(
            status=ApprovalStatus.APPROVED, decided_by=staff_of(supervisor), decided_at=approval.requested_at
        )


def test_counsellors_and_other_lines_cannot_decide(case, counsellor, colleague, far_supervisor):
    approval = case_close_request(actor=staff_of(counsellor), case=case, reason=REASON)
    for user in (colleague, far_supervisor, counsellor):
        with pytest.raises((Approval.DoesNotExist, SelfApprovalError)):
            approval_decide(actor=staff_of(user), approval=approval, approve=True)
    assert status_of(case) == CaseStatus.PENDING_CLOSURE


def test_break_glass_does_not_give_the_right_to_decide(case, counsellor, far_supervisor):
    approval = case_close_request(actor=staff_of(counsellor), case=case, reason=REASON)
    case_break_glass(actor=staff_of(far_supervisor), reference=case.reference, reason="Child moved to our region")
    with pytest.raises(Approval.DoesNotExist):
        approval_decide(actor=staff_of(far_supervisor), approval=approval, approve=True)


def test_a_decision_is_made_once(case, counsellor, supervisor, demo_line):
    from tests.conftest import make_staff

    second = make_staff("supervisor2", "supervisor", line=demo_line)
    approval = case_close_request(actor=staff_of(counsellor), case=case, reason=REASON)
    approval_decide(actor=staff_of(supervisor), approval=approval, approve=True)
    with pytest.raises(ApprovalError, match="already"):
        approval_decide(actor=staff_of(second), approval=approval, approve=False, reason="No")
    assert status_of(case) == CaseStatus.CLOSED


def test_only_one_request_waits_per_case_and_closed_cases_are_not_requested(case, counsellor):
    case_close_request(actor=staff_of(counsellor), case=case, reason=REASON)
    with pytest.raises(ApprovalError):
        case_close_request(actor=staff_of(counsellor), case=case, reason=REASON)
    assert Approval.objects.count() == 1


def test_a_colleague_cannot_ask_to_close_someone_elses_case(case, colleague):
    with pytest.raises(Case.DoesNotExist):
        case_close_request(actor=staff_of(colleague), case=case, reason=REASON)
    assert status_of(case) == CaseStatus.IN_PROGRESS


def test_through_the_pages_the_supervisor_sees_it_waiting_and_approves(case, counsellor, supervisor):
    response = client_for(counsellor).post(f"/cases/{case.pk}/close/", {"reason": REASON})
    assert response.status_code == 302
    supervising = client_for(supervisor)
    page = supervising.get("/cases/supervision/")
    approval = Approval.objects.get()
    assert f'data-approval-id="{approval.pk}"'.encode() in page.content
    assert case.reference.encode() in page.content
    assert REASON.encode() not in page.content  # reasons are read on the case page, where reading is audited
    response = supervising.post(f"/cases/approvals/{approval.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    assert status_of(case) == CaseStatus.CLOSED
    assert f'data-approval-id="{approval.pk}"'.encode() not in supervising.get("/cases/supervision/").content


def test_through_the_pages_self_approval_is_refused(case, supervisor):
    supervising = client_for(supervisor)
    supervising.post(f"/cases/{case.pk}/close/", {"reason": REASON})
    approval = Approval.objects.get()
    page = supervising.get("/cases/supervision/")
    assert b"Your own request" in page.content
    response = supervising.post(f"/cases/approvals/{approval.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 403
    assert status_of(case) == CaseStatus.PENDING_CLOSURE


def test_a_kind_another_app_decides_itself_is_neither_listed_nor_decided_here(case, counsellor, supervisor):
    """Referrals write their own kind (a referral plan) and decide it on their own pages."""
    foreign = Approval(case=case, kind="referral_plan", requested_by=staff_of(counsellor))
    seal(foreign, "request_reason", "Consent override")
    foreign.save(force_insert=True)
    page = client_for(supervisor).get("/cases/supervision/")
    assert f'data-approval-id="{foreign.pk}"'.encode() not in page.content
    with pytest.raises(Approval.DoesNotExist):
        approval_decide(actor=staff_of(supervisor), approval=foreign, approve=True)
    assert Approval.objects.get(pk=foreign.pk).status == ApprovalStatus.PENDING
