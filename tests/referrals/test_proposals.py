"""Evaluation: the SOP proposes when a case is classified or its facts change; proposals record the SOP
version and rule; a re-evaluation never duplicates a proposal already acted on; counsellors confirm,
edit or decline (with a reason); a manual referral needs a reason."""

import pytest
from django.core.exceptions import PermissionDenied

from cases.services.cases import case_facts_update
from referrals.lifecycle import Status
from referrals.models import Referral
from referrals.services.events import ReferralError
from referrals.services.referrals import (
    referral_dismiss,
    referral_edit,
    referral_manual_create,
    referrals_propose,
)
from tests.cases.conftest import staff_of
from tests.referrals.conftest import raw_column, sextortion_case

pytestmark = pytest.mark.django_db


def test_classifying_sextortion_at_high_risk_proposes_police_and_social_services(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = sextortion_case(counsellor, demo_line)
    proposed = {referral.agency.code: referral for referral in Referral.objects.filter(case=case)}
    assert set(proposed) == {"ke-police-nairobi", "ke-childrens-services-nairobi"}
    police = proposed["ke-police-nairobi"]
    assert police.status == Status.PROPOSED and police.origin == "sop"
    assert (police.sop_name, police.sop_version, police.rule_id) == ("demo-online-abuse", 1, "sextortion-high-risk")
    assert police.needs_approval and police.consent_rule == "override_allowed"
    assert "sextortion" in police.why
    assert police.events.get().kind == "proposed"


def test_outside_a_covered_region_the_national_agencies_are_proposed(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop
):
    case = sextortion_case(counsellor, demo_line, region="KE-001")
    referrals_propose(case_id=case.pk)
    assert set(case.referrals.values_list("agency__code", flat=True)) == {"ke-police-dcs", "ke-dcs-national"}


def test_re_evaluation_never_duplicates_and_never_revives_what_was_acted_on(case, plan, counsellor):
    referral_dismiss(
        actor=counsellor, referral=plan["ke-childrens-services-nairobi"], reason="The child asked us not to."
    )
    for _ in range(3):
        referrals_propose(case_id=case.pk)
    assert case.referrals.count() == 2
    assert case.referrals.get(agency__code="ke-childrens-services-nairobi").status == Status.DISMISSED
    assert case.referrals.get(agency__code="ke-police-nairobi").status == Status.PROPOSED


def test_a_proposal_the_sop_no_longer_makes_is_withdrawn_unless_someone_acted_on_it(case, plan, counsellor):
    from referrals.services.referrals import referral_confirm

    referral_confirm(actor=counsellor, referral=plan["ke-police-nairobi"])
    case_facts_update(actor=staff_of(counsellor), case=case, risk_level="low")
    referrals_propose(case_id=case.pk)
    assert case.referrals.get(agency__code="ke-childrens-services-nairobi").status == Status.WITHDRAWN
    assert case.referrals.get(agency__code="ke-police-nairobi").status == Status.PROPOSED  # confirmed: kept


def test_declining_a_proposal_needs_a_reason(plan, counsellor):
    with pytest.raises(ReferralError):
        referral_dismiss(actor=counsellor, referral=plan["ke-police-nairobi"], reason="  ")
    assert Referral.objects.get(pk=plan["ke-police-nairobi"].pk).status == Status.PROPOSED


def test_a_colleague_cannot_decide_on_someone_elses_case(plan, colleague):
    with pytest.raises(PermissionDenied):
        referral_dismiss(actor=colleague, referral=plan["ke-police-nairobi"], reason="Not mine")


def test_editing_a_proposal_changes_urgency_and_fields(plan, counsellor):
    referral = referral_edit(
        actor=counsellor, referral=plan["ke-police-nairobi"], urgency="immediate", share=["child.age_band"]
    )
    assert referral.urgency == "immediate" and referral.share == ["child.age_band"]
    assert referral.events.filter(kind="edited").exists()
    with pytest.raises(ReferralError):
        referral_edit(actor=counsellor, referral=referral, share=["child.diary"])


def test_a_manual_referral_needs_a_reason_and_is_a_proposal_until_confirmed(case, agencies, counsellor):
    with pytest.raises(ReferralError):
        referral_manual_create(actor=counsellor, case=case, agency=agencies["ncmec"], reason="")
    referral = referral_manual_create(
        actor=counsellor, case=case, agency=agencies["ncmec"], reason="The platform is US-based."
    )
    assert referral.origin == "manual" and referral.status == Status.PROPOSED and referral.rule_id == ""
    assert b"US-based" not in raw_column("referrals_referral", "manual_reason", referral.pk)


def test_the_case_timeline_shows_every_proposal_and_decision(case, plan, counsellor):
    from cases.timeline import timeline_sources
    from referrals.selectors import referral_timeline

    assert referral_timeline in timeline_sources()
    referral_dismiss(actor=counsellor, referral=plan["ke-childrens-services-nairobi"], reason="Not now, she said.")
    entries = referral_timeline(case)
    titles = [entry.title for entry in entries]
    assert "Referral proposed by the SOP: Nairobi County Police, Gender and Children Desk" in titles
    assert "Referral proposal declined: Children's Services, Nairobi County" in titles
    assert all(entry.kind == "referral" and entry.url == f"/referrals/case/{case.pk}/" for entry in entries)
    assert not any("Not now" in entry.title + entry.detail for entry in entries)  # notes stay sealed
