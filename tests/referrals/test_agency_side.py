"""The agency's side of a referral (referrals.services.agency_side, referrals.selectors): every step is
refused to another agency, its users and its system; the side that asked a question never answers it;
a decline needs a reason; moves the lifecycle does not allow are refused with its message; notes,
questions and answers are sealed; every step is audited with how it came in."""

import pytest
from django.core.exceptions import PermissionDenied

from helpline.audit.models import AuditEvent
from referrals import actions
from referrals.lifecycle import Status
from referrals.models import OutcomeKind, Referral, ReferralEvent, ReferralQuestion
from referrals.selectors import (
    referral_for_agency,
    referral_shared_view,
    referral_timeline,
    referrals_for_agency,
    referrals_of_agency,
)
from referrals.services import (
    outcome_kind_save,
    referral_accept,
    referral_acknowledge,
    referral_decline,
    referral_question_answer,
    referral_question_ask,
    referral_update_record,
)
from referrals.services.events import ReferralError
from referrals.services.referrals import referral_withdraw
from tests.referrals.conftest import ANSWER, CHILD_PHONE, NOTE, PERPETRATOR_HANDLE, QUESTION, raw_column
from tests.referrals.world import agency_user, referral_sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency_a(sent):
    return sent.agency


@pytest.fixture
def agency_b(agencies):
    return agencies["ke-police-dcs"]


@pytest.fixture
def officer_a(agency_a):
    return agency_user("officer_a", agency_a)


@pytest.fixture
def officer_b(agency_b):
    return agency_user("officer_b", agency_b)


def _fresh(referral) -> Referral:
    return Referral.objects.get(pk=referral.pk)


def _helpline_question(sent, counsellor) -> ReferralQuestion:
    return referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)


# --- agency A's referral is never agency B's ----------------------------------------------------

CALLS = {
    "acknowledge": lambda agency, actor, referral, question: referral_acknowledge(
        agency=agency, actor=actor, referral=referral
    ),
    "accept": lambda agency, actor, referral, question: referral_accept(agency=agency, actor=actor, referral=referral),
    "decline": lambda agency, actor, referral, question: referral_decline(
        agency=agency, actor=actor, referral=referral, reason="Not ours"
    ),
    "update": lambda agency, actor, referral, question: referral_update_record(
        agency=agency, actor=actor, referral=referral, outcome="investigation_opened", note=NOTE
    ),
    "ask": lambda agency, actor, referral, question: referral_question_ask(
        agency=agency, actor=actor, referral=referral, text=QUESTION
    ),
    "answer": lambda agency, actor, referral, question: referral_question_answer(
        agency=agency, actor=actor, question=question, text=ANSWER
    ),
    "read": lambda agency, actor, referral, question: referral_shared_view(
        agency=agency, referral=referral, actor=actor, via="portal"
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("who", ["b_user_as_b", "b_system", "b_user_as_a", "counsellor_as_a"])
def test_another_agency_its_users_and_its_system_can_do_nothing_with_the_referral(
    call, who, sent, agency_a, agency_b, officer_a, officer_b, counsellor
):
    question = _helpline_question(sent, counsellor)
    agency, actor = {
        "b_user_as_b": (agency_b, officer_b),
        "b_system": (agency_b, None),
        "b_user_as_a": (agency_a, officer_b),  # B's user claiming to act for A
        "counsellor_as_a": (agency_a, counsellor),  # not an authority user at all
    }[who]
    events, audits = ReferralEvent.objects.count(), AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        CALLS[call](agency, actor, sent, question)
    assert _fresh(sent).status == Status.SENT
    assert ReferralEvent.objects.count() == events and AuditEvent.objects.count() == audits
    assert ReferralQuestion.objects.get(pk=question.pk).answered_at is None
    assert ReferralQuestion.objects.count() == 1


def test_the_lists_and_lookups_of_agency_b_never_hold_agency_a_s_referral(sent, agency_a, agency_b, officer_b):
    assert referral_for_agency(agency=agency_b, referral_id=sent.pk) is None
    assert list(referrals_of_agency(agency_b)) == [] and list(referrals_for_agency(officer_b)) == []
    assert referral_for_agency(agency=agency_a, referral_id=sent.pk) == sent
    assert referral_for_agency(agency=agency_a, referral_id="not-a-uuid") is None
    assert referral_for_agency(agency=None, referral_id=sent.pk) is None


def test_a_proposal_or_a_referral_withdrawn_before_sending_never_reaches_the_agency(plan, agencies, counsellor):
    agency = agencies["ke-police-nairobi"]
    officer_a = agency_user("officer_a", agency)
    proposal = plan["ke-police-nairobi"]
    assert list(referrals_of_agency(agency)) == []
    assert referral_for_agency(agency=agency, referral_id=proposal.pk) is None
    with pytest.raises(PermissionDenied):
        referral_acknowledge(agency=agency, actor=officer_a, referral=proposal)
    referral_withdraw(actor=counsellor, referral=proposal, reason="Made by mistake")
    assert list(referrals_of_agency(agency)) == []
    with pytest.raises(PermissionDenied):
        referral_shared_view(agency=agency, referral=proposal, actor=officer_a, via="portal")


def test_via_is_portal_or_an_api_key_prefix(sent, agency_a, officer_a):
    with pytest.raises(ValueError, match="via"):
        referral_acknowledge(agency=agency_a, actor=officer_a, referral=sent, via="email")


# --- the steps ------------------------------------------------------------------------------------


def test_acknowledge_accept_and_a_final_outcome_close_the_referral_with_every_step_audited(sent, agency_a, officer_a):
    referral_acknowledge(agency=agency_a, actor=officer_a, referral=sent)
    referral_accept(agency=agency_a, actor=None, referral=sent, note="Taken on by the desk", via="api:k3y1")
    update = referral_update_record(
        agency=agency_a, actor=officer_a, referral=sent, outcome="investigation_opened", note=NOTE
    )
    assert update.kind == "update" and _fresh(sent).status == Status.ACCEPTED
    closing = referral_update_record(
        agency=agency_a, actor=officer_a, referral=sent, outcome="no_further_action", note="Family moved away"
    )
    referral = _fresh(sent)
    assert referral.status == Status.CLOSED and referral.closed_at is not None
    assert referral.outcome_kind.code == "no_further_action" and closing.outcome.code == "no_further_action"
    assert referral.acknowledged_at is not None
    kinds = list(referral.events.values_list("kind", "via"))
    assert kinds[-4:] == [
        ("acknowledged", "portal"),
        ("accepted", "api:k3y1"),
        ("update", "portal"),
        ("closed", "portal"),
    ]
    audits = {event.action: event.details for event in AuditEvent.objects.filter(record_id=str(sent.pk))}
    assert audits[actions.REFERRAL_ACKNOWLEDGED]["via"] == "portal"
    assert audits[actions.REFERRAL_ACCEPTED]["via"] == "api:k3y1"
    assert audits[actions.REFERRAL_UPDATE_RECORDED]["outcome"] == "investigation_opened"
    assert audits[actions.REFERRAL_OUTCOME_RECORDED].items() >= {"outcome": "no_further_action", "to": "closed"}.items()
    assert NOTE.encode() not in raw_column("referrals_referralevent", "note", update.pk)
    assert b"Family moved away" not in raw_column("referrals_referral", "outcome", sent.pk)
    everything = str(list(AuditEvent.objects.values_list("details", "reason")))
    assert "Achieng" not in everything and "Family moved away" not in everything


def test_a_decline_needs_a_reason(sent, agency_a, officer_a):
    for reason in ("", "   "):
        with pytest.raises(ReferralError, match="Say why"):
            referral_decline(agency=agency_a, actor=officer_a, referral=sent, reason=reason)
    assert _fresh(sent).status == Status.SENT
    referral_decline(agency=agency_a, actor=officer_a, referral=sent, reason="Outside our county")
    assert _fresh(sent).status == Status.DECLINED


def test_impossible_moves_are_refused_with_the_lifecycle_s_message(sent, agency_a, officer_a):
    referral_acknowledge(agency=agency_a, actor=officer_a, referral=sent)
    with pytest.raises(ReferralError, match="acknowledged cannot become acknowledged"):
        referral_acknowledge(agency=agency_a, actor=officer_a, referral=sent)
    # A final outcome on a referral neither accepted nor declined: accept or decline it first.
    with pytest.raises(ReferralError, match="cannot become closed; from here it can only become: accepted"):
        referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="closed_by_prosecutor")
    referral_decline(agency=agency_a, actor=officer_a, referral=sent, reason="Outside our county")
    with pytest.raises(ReferralError, match="declined by the agency cannot become accepted"):
        referral_accept(agency=agency_a, actor=officer_a, referral=sent)
    with pytest.raises(ReferralError, match="takes no more progress updates"):
        referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="arrest")
    referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="no_further_action")
    with pytest.raises(ReferralError, match="its story has ended"):
        referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="no_further_action")


def test_only_an_active_outcome_of_the_list_is_recorded(sent, agency_a, officer_a):
    with pytest.raises(ReferralError, match="from the list"):
        referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="made_up")
    arrest = OutcomeKind.objects.get(code="arrest")
    outcome_kind_save(actor=None, kind=arrest, code="arrest", label="Arrest", final=False, active=False)
    with pytest.raises(ReferralError, match="from the list"):
        referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="arrest")
    added = outcome_kind_save(actor=None, code="referred_on", label="Referred to another service", final=True)
    referral_accept(agency=agency_a, actor=officer_a, referral=sent)
    referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome=added.code)
    assert _fresh(sent).status == Status.CLOSED
    assert AuditEvent.objects.filter(action=actions.OUTCOME_KIND_SAVED).count() == 2


def test_the_list_starts_with_the_outcomes_of_the_issue():
    codes = dict(OutcomeKind.objects.values_list("code", "final"))
    assert codes == {
        "progress_update": False,
        "investigation_opened": False,
        "arrest": False,
        "child_placed_in_care": False,
        "content_removed": False,
        "closed_by_prosecutor": True,
        "no_further_action": True,
    }


# --- questions ----------------------------------------------------------------------------------


def test_the_agency_asks_and_the_counsellor_answers_never_the_other_way_round(
    sent, agency_a, officer_a, counsellor, supervisor
):
    question = referral_question_ask(agency=agency_a, actor=officer_a, referral=sent, text=QUESTION)
    with pytest.raises(PermissionDenied):
        referral_question_answer(agency=agency_a, actor=officer_a, question=question, text=ANSWER)
    with pytest.raises(PermissionDenied):
        referral_question_answer(agency=agency_a, actor=None, question=question, text=ANSWER, via="api:k3y1")
    with pytest.raises(ReferralError, match="Write the answer"):
        referral_question_answer(actor=counsellor, question=question, text="  ")
    referral_question_answer(actor=counsellor, question=question, text=ANSWER)
    with pytest.raises(ReferralError, match="already answered"):
        referral_question_answer(actor=supervisor, question=question, text="Another answer")
    stored = ReferralQuestion.objects.get(pk=question.pk)
    assert stored.asked_by_side == "agency" and stored.answered_by.user == counsellor
    assert QUESTION.encode() not in raw_column("referrals_referralquestion", "text", question.pk)
    assert ANSWER.encode() not in raw_column("referrals_referralquestion", "answer", question.pk)
    audits = AuditEvent.objects.filter(action__startswith="referral.question_").order_by("id")
    assert [(a.action, a.details["side"]) for a in audits] == [
        (actions.REFERRAL_QUESTION_ASKED, "agency"),
        (actions.REFERRAL_QUESTION_ANSWERED, "helpline"),
    ]
    assert QUESTION not in str([a.details for a in audits]) and ANSWER not in str([a.details for a in audits])


def test_the_helpline_asks_and_the_agency_s_system_answers(sent, agency_a, officer_a, counsellor):
    question = _helpline_question(sent, counsellor)
    with pytest.raises(PermissionDenied):
        referral_question_answer(actor=counsellor, question=question, text=ANSWER)
    referral_question_answer(agency=agency_a, actor=None, question=question, text=ANSWER, via="api:k3y1")
    assert ReferralQuestion.objects.get(pk=question.pk).answered_via == "api:k3y1"


def test_only_someone_with_the_case_asks_for_the_helpline(sent, colleague, far_supervisor, officer_a):
    for actor in (colleague, far_supervisor, None, officer_a):
        with pytest.raises(PermissionDenied):
            referral_question_ask(actor=actor, referral=sent, text=QUESTION)
    assert not ReferralQuestion.objects.exists()


def test_no_question_on_a_closed_referral_and_none_before_it_is_sent(plan, sent, agency_a, officer_a, counsellor):
    proposal = plan["ke-childrens-services-nairobi"]
    with pytest.raises(ReferralError, match="reached the agency"):
        referral_question_ask(actor=counsellor, referral=proposal, text=QUESTION)
    referral_decline(agency=agency_a, actor=officer_a, referral=sent, reason="Outside our county")
    referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="no_further_action")
    with pytest.raises(ReferralError, match="closed"):
        referral_question_ask(agency=agency_a, actor=officer_a, referral=sent, text=QUESTION)


def _sent_then(status, sent, agency_a, officer_a, counsellor):
    if status == "declined":
        referral_decline(agency=agency_a, actor=officer_a, referral=sent, reason="Outside our county")
    elif status == "closed":
        referral_accept(agency=agency_a, actor=officer_a, referral=sent)
        referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="no_further_action")
    else:
        referral_withdraw(actor=counsellor, referral=sent, reason="The family moved away")
    assert _fresh(sent).status == status


@pytest.mark.parametrize("status", ["declined", "closed", "withdrawn"])
def test_no_question_asked_or_answered_on_a_declined_closed_or_withdrawn_referral(
    status, sent, agency_a, officer_a, counsellor
):
    from_agency = referral_question_ask(agency=agency_a, actor=officer_a, referral=sent, text=QUESTION)
    from_helpline = _helpline_question(sent, counsellor)
    _sent_then(status, sent, agency_a, officer_a, counsellor)
    refused = f"This referral (is|was) {status}: no more questions can be asked or answered on it"
    with pytest.raises(ReferralError, match=refused):
        referral_question_answer(actor=counsellor, question=from_agency, text=ANSWER)
    with pytest.raises(ReferralError, match=refused):
        referral_question_answer(agency=agency_a, actor=officer_a, question=from_helpline, text=ANSWER)
    with pytest.raises(ReferralError, match=refused):
        referral_question_ask(agency=agency_a, actor=None, referral=sent, text=QUESTION, via="api:k3y1")
    with pytest.raises(ReferralError, match=refused):
        referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    assert ReferralQuestion.objects.count() == 2
    assert not ReferralQuestion.objects.filter(answered_at__isnull=False).exists()
    assert AuditEvent.objects.filter(action=actions.REFERRAL_QUESTION_ANSWERED).count() == 0


# --- what the agency sees -----------------------------------------------------------------------


def test_the_shared_view_is_the_document_as_sent_and_the_agency_s_own_story_audited_as_a_read(
    sent, agency_a, officer_a, counsellor
):
    question = referral_question_ask(agency=agency_a, actor=officer_a, referral=sent, text=QUESTION)
    referral_question_answer(actor=counsellor, question=question, text=ANSWER)
    referral_decline(agency=agency_a, actor=officer_a, referral=sent, reason="Outside our county")
    view = referral_shared_view(agency=agency_a, referral=sent, actor=officer_a, via="portal")
    assert view["document"]["referral_id"] == str(sent.pk)
    assert view["document"]["child"]["age_band"] == "13-15" and "narrative" not in view["document"]
    kinds = [event["kind"] for event in view["events"]]
    assert kinds == ["sent", "question_from_agency", "answer_from_helpline", "declined"]
    assert view["events"][-1]["note"] == "Outside our county"
    assert all(event["by"] in ("officer_a", "the helpline") for event in view["events"])
    [asked] = view["questions"]
    assert asked["text"] == QUESTION and asked["answer"] == ANSWER and not asked["agency_may_answer"]
    # The helpline's own notes (the consent override's reason) and its people's names never show.
    shown = str(view)
    assert "Asking would put her at risk" not in shown and "counsellor" not in shown
    read = AuditEvent.objects.filter(action=actions.REFERRAL_SHARED_READ).get()
    assert (
        read.actor_id == officer_a.pk and read.details["via"] == "portal" and "child.age_band" in read.details["fields"]
    )


def test_the_document_shows_only_the_fields_the_agency_receives(plan, agencies, counsellor, supervisor):
    from referrals.services.agencies import agency_update

    agency_update(actor=None, agency=agencies["ke-police-nairobi"], fields=["categories", "child.age_band"])
    sent = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    officer = agency_user("officer_a", sent.agency)
    view = referral_shared_view(agency=sent.agency, referral=sent, actor=officer, via="portal")
    shown = str(view["document"])
    assert view["document"]["child"] == {"age_band": "13-15"}
    assert CHILD_PHONE not in shown and PERPETRATOR_HANDLE not in shown and "people" not in view["document"]


def test_the_case_timeline_shows_every_step_of_the_agency(sent, agency_a, officer_a, counsellor):
    referral_acknowledge(agency=agency_a, actor=officer_a, referral=sent)
    question = referral_question_ask(agency=agency_a, actor=officer_a, referral=sent, text=QUESTION)
    referral_question_answer(actor=counsellor, question=question, text=ANSWER)
    referral_accept(agency=agency_a, actor=officer_a, referral=sent)
    referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="arrest", note=NOTE)
    referral_update_record(agency=agency_a, actor=officer_a, referral=sent, outcome="closed_by_prosecutor")
    titles = [entry.title for entry in referral_timeline(sent.case)]
    agency = sent.agency.name
    for title in (
        "Referral acknowledged",
        "Question from the agency",
        "Answer to the agency",
        "Referral accepted",
        "Progress update from the agency (Arrest)",
        "Referral closed (Closed by the prosecutor)",
    ):
        assert any(t.startswith(title) and t.endswith(agency) for t in titles), (title, titles)
    assert NOTE not in str(referral_timeline(sent.case)) and QUESTION not in str(referral_timeline(sent.case))


def test_an_administrator_edits_the_list_in_the_admin_and_each_change_is_audited(admin_client):
    response = admin_client.post(
        "/admin/referrals/outcomekind/add/",
        {"code": "referred_on", "label": "Referred to another service", "final": "on", "active": "on", "order": "80"},
    )
    assert response.status_code == 302, response.content[:2000]
    added = OutcomeKind.objects.get(code="referred_on")
    assert added.final and added.active
    arrest = OutcomeKind.objects.get(code="arrest")
    response = admin_client.post(
        f"/admin/referrals/outcomekind/{arrest.pk}/change/", {"label": "Arrest made", "order": "30"}
    )
    assert response.status_code == 302
    arrest.refresh_from_db()
    assert arrest.label == "Arrest made" and not arrest.active
    saved = [event.details for event in AuditEvent.objects.filter(action=actions.OUTCOME_KIND_SAVED).order_by("id")]
    assert saved[0]["code"] == "referred_on" and set(saved[1]["changed"]) == {"label", "active"}
    assert admin_client.get(f"/admin/referrals/outcomekind/{arrest.pk}/delete/").status_code == 403
