"""Consent gates sending; an override needs a supervisor's approval with a reason, never the requester's;
confirming writes the referral and its delivery in one transaction."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from cases.models import Approval
from cases.services.people import case_person_add
from referrals.lifecycle import Status
from referrals.models import Delivery, Referral
from referrals.services.events import ReferralError
from referrals.services.referrals import (
    referral_confirm,
    referral_consent_record,
    referral_override_request,
    referral_plan_decide,
    referral_waiting_for,
)
from tests.cases.conftest import staff_of

pytestmark = pytest.mark.django_db


def _fresh(referral):
    return Referral.objects.select_related("agency", "case").get(pk=referral.pk)


def test_a_confirmed_referral_waits_for_consent_and_is_queued_once_it_is_recorded(plan, counsellor):
    social = plan["ke-childrens-services-nairobi"]
    referral_confirm(actor=counsellor, referral=social)
    social = _fresh(social)
    assert social.status == Status.PROPOSED and [str(w) for w in referral_waiting_for(social)] == ["consent"]
    assert not Delivery.objects.exists()
    referral_consent_record(actor=counsellor, referral=social, by="child", method="verbal")
    social = _fresh(social)
    assert social.status == Status.QUEUED and social.consent_status == "given"
    delivery = Delivery.objects.get(referral=social)
    assert DBTaskResult.objects.filter(args_kwargs__args=["referral", str(delivery.pk)]).exists()


def test_consent_is_never_taken_from_a_caregiver_recorded_as_the_alleged_perpetrator(case, plan, counsellor):
    case_person_add(
        actor=staff_of(counsellor), case=case, role="alleged_perpetrator", relationship="parent", is_caregiver=True
    )
    with pytest.raises(ReferralError, match="alleged perpetrator"):
        referral_consent_record(actor=counsellor, referral=plan["ke-police-nairobi"], by="caregiver", method="verbal")
    assert _fresh(plan["ke-police-nairobi"]).consent_status == "pending"


def test_an_override_needs_a_reason_and_a_rule_that_allows_it(case, plan, counsellor, agencies):
    with pytest.raises(ReferralError):
        referral_override_request(actor=counsellor, referral=plan["ke-police-nairobi"], reason="")
    from referrals.services.referrals import referral_manual_create

    strict = referral_manual_create(
        actor=counsellor,
        case=case,
        agency=agencies["ke-dcs-national"],
        reason="Second opinion",
        consent_rule="required",
    )
    with pytest.raises(ReferralError, match="does not allow"):
        referral_override_request(actor=counsellor, referral=strict, reason="No time to ask")


def _ask_override(plan, counsellor):
    police = plan["ke-police-nairobi"]
    referral_confirm(actor=counsellor, referral=police)
    referral_override_request(actor=counsellor, referral=police, reason="Asking would put her at risk tonight")
    return _fresh(police)


def test_a_supervisor_approves_the_override_and_the_referral_is_queued(plan, counsellor, supervisor):
    police = _ask_override(plan, counsellor)
    assert police.status == Status.PROPOSED and police.approval is not None
    referral_plan_decide(actor=supervisor, approval=police.approval, approve=True, reason="Risk is high; agreed.")
    police = _fresh(police)
    assert police.status == Status.QUEUED and police.consent_status == "overridden"
    kinds = list(police.events.values_list("kind", flat=True))
    assert kinds == ["proposed", "confirmation", "override_requested", "override_approved", "approved", "confirmed"]
    approval = Approval.objects.get(pk=police.approval_id)
    assert approval.status == "approved" and approval.decided_by.user == supervisor


def test_nobody_approves_their_own_request(plan, supervisor):
    police = _ask_override(plan, supervisor)  # the supervisor asked this time
    with pytest.raises(PermissionDenied):
        referral_plan_decide(actor=supervisor, approval=police.approval, approve=True, reason="Fine by me")
    assert _fresh(police).status == Status.PROPOSED
    assert Approval.objects.get(pk=police.approval_id).status == "pending"


@pytest.mark.parametrize("role", ["counsellor", "colleague", "far_supervisor", "authority", "admin_user"])
def test_only_a_supervisor_of_the_line_decides(request, plan, counsellor, role):
    police = _ask_override(plan, counsellor)
    with pytest.raises(PermissionDenied):
        referral_plan_decide(actor=request.getfixturevalue(role), approval=police.approval, approve=True, reason="ok")
    assert _fresh(police).status == Status.PROPOSED


def test_a_refused_override_leaves_the_referral_unsent_and_consent_to_ask_again(plan, counsellor, supervisor):
    police = _ask_override(plan, counsellor)
    referral_plan_decide(actor=supervisor, approval=police.approval, approve=False, reason="Ask her first.")
    police = _fresh(police)
    assert police.status == Status.PROPOSED and police.consent_status == "pending"
    assert not Delivery.objects.exists()


def test_a_failure_after_the_referral_is_queued_leaves_neither_referral_change_nor_delivery(plan, counsellor):
    social = plan["ke-childrens-services-nairobi"]
    referral_confirm(actor=counsellor, referral=social)
    tasks_before = DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        referral_consent_record(actor=counsellor, referral=social, by="child", method="verbal")
        assert Delivery.objects.filter(referral=social).exists()
        raise RuntimeError("the request failed after the referral was written")
    assert _fresh(social).status == Status.PROPOSED
    assert not Delivery.objects.exists() and DBTaskResult.objects.count() == tasks_before


def test_an_override_asked_by_a_supervisor_joins_a_pending_plan_but_they_cannot_approve_it(
    plan, counsellor, supervisor
):
    """The counsellor's request is pending; the supervisor adds their own override to it and must
    not then approve the plan that now carries it (they asked for that override)."""
    police = _ask_override(plan, counsellor)
    social = plan["ke-childrens-services-nairobi"]
    referral_confirm(actor=counsellor, referral=social)
    referral_override_request(actor=supervisor, referral=social, reason="No time to ask her")
    assert _fresh(social).approval_id == police.approval_id
    with pytest.raises(PermissionDenied):
        referral_plan_decide(actor=supervisor, approval=police.approval, approve=True, reason="Fine by me")
    assert _fresh(social).consent_status == "override_requested"
    assert Approval.objects.get(pk=police.approval_id).status == "pending"
