"""What an agency's system does through the API, scope by scope: read, acknowledge, accept or decline,
post updates and outcomes, ask and answer questions. Each step lands on the referral, on the case's
timeline, and in the audit trail with the key that did it."""

import pytest

from referrals.models import Referral, ReferralEvent, ReferralQuestion
from referrals.selectors import referral_timeline
from tests.referrals.api.conftest import QUESTION, ApiClient, make_key, problem_of

pytestmark = pytest.mark.django_db

# (method, path under /api/v1/, body, the scope it needs)
SCOPED = [
    ("get", "referrals/", None, "read"),
    ("get", "referrals/{referral}/", None, "read"),
    ("get", "referrals/{referral}/questions/", None, "read"),
    ("get", "outcome-kinds/", None, "read"),
    ("post", "referrals/{referral}/acknowledge/", {}, "acknowledge"),
    ("post", "referrals/{referral}/accept/", {}, "acknowledge"),
    ("post", "referrals/{referral}/decline/", {"reason": "Out of our area"}, "acknowledge"),
    ("post", "referrals/{referral}/updates/", {"outcome": "investigation_opened"}, "update"),
    ("post", "referrals/{referral}/questions/", {"text": "Where?"}, "update"),
    ("post", "referrals/{referral}/questions/{question}/answer/", {"text": "Here"}, "update"),
]


@pytest.mark.parametrize(("method", "path", "body", "scope"), SCOPED, ids=[f"{m} {p}" for m, p, _, _ in SCOPED])
def test_each_endpoint_needs_its_scope(referral_a, question_a, method, path, body, scope):
    url = "/api/v1/" + path.format(referral=referral_a.pk, question=question_a.pk)
    before = (Referral.objects.get(pk=referral_a.pk).status, ReferralEvent.objects.count())
    for others in (["read", "acknowledge", "update"],):
        lacking = ApiClient(make_key(referral_a.agency, scopes=[s for s in others if s != scope])[1])
        response = lacking.post(url, body) if method == "post" else lacking.get(url)
        problem = problem_of(response, 403)
        assert problem["type"] == "urn:helpline:problem:insufficient-scope" and scope in problem["detail"]
        assert QUESTION not in response.content.decode()
    assert (Referral.objects.get(pk=referral_a.pk).status, ReferralEvent.objects.count()) == before
    holding = ApiClient(make_key(referral_a.agency, scopes=[scope])[1])
    response = holding.post(url, body) if method == "post" else holding.get(url)
    assert response.status_code == 200, response.content


def test_fetch_shows_the_document_as_shared_and_nothing_else(api_a, referral_a):
    body = api_a.get(f"/api/v1/referrals/{referral_a.pk}/").json()
    assert body["referral"]["id"] == str(referral_a.pk) and body["referral"]["status"] == "sent"
    assert set(body["document"]) - {"schema", "referral_id", "created_at", "acknowledge_by", "urgency"} <= {
        "agency",
        "case_reference",
        "categories",
        "child",
        "consent",
        "helpline",
        "incident",
        "people",
        "risk_level",
    }
    assert "name" not in body["document"]["child"] and "phone" not in body["document"]["child"]
    assert [event["kind"] for event in body["events"]] == ["sent"]


def test_acknowledge_accept_update_and_close(api_a, key_a, referral_a):
    base = f"/api/v1/referrals/{referral_a.pk}/"
    acknowledged = api_a.post(base + "acknowledge/").json()
    assert acknowledged["referral"]["status"] == "acknowledged" and acknowledged["referral"]["acknowledged_at"]
    assert api_a.post(base + "accept/", {"note": "Officer assigned"}).json()["referral"]["status"] == "accepted"
    kinds = {kind["code"]: kind for kind in api_a.get("/api/v1/outcome-kinds/").json()}
    progress = next(code for code, kind in kinds.items() if not kind["final"])
    final = next(code for code, kind in kinds.items() if kind["final"])
    assert (
        api_a.post(base + "updates/", {"outcome": progress, "note": "Visit planned"}).json()["referral"]["status"]
        == "accepted"
    )
    closed = api_a.post(base + "updates/", {"outcome": final}).json()["referral"]
    assert closed["status"] == "closed" and closed["outcome"] == final
    events = ReferralEvent.objects.filter(
        referral=referral_a, kind__in=["acknowledged", "accepted", "update", "closed"]
    )
    assert {event.via for event in events} == {f"api:{key_a[0].prefix}"}
    shown = api_a.get(base).json()
    assert [event["kind"] for event in shown["events"]][-4:] == ["acknowledged", "accepted", "update", "closed"]
    assert "Visit planned" in [event["note"] for event in shown["events"]]
    titles = " ".join(entry.title for entry in referral_timeline(referral_a.case))
    assert "acknowledged" in titles.lower() and "closed" in titles.lower()


def test_decline_needs_a_reason(api_a, referral_a):
    base = f"/api/v1/referrals/{referral_a.pk}/"
    problem = problem_of(api_a.post(base + "decline/", {}), 400)
    assert problem["type"] == "urn:helpline:problem:validation"
    assert problem["errors"] == [{"pointer": "#/reason", "detail": "This field is required.", "code": "required"}]
    problem = problem_of(api_a.post(base + "decline/", {"reason": "   "}), 400)
    assert problem["errors"][0]["pointer"] == "#/reason"
    assert api_a.post(base + "decline/", {"reason": "Not in our area"}).json()["referral"]["status"] == "declined"


def test_an_unknown_outcome_and_an_impossible_move_are_refused(api_a, referral_a):
    base = f"/api/v1/referrals/{referral_a.pk}/"
    problem = problem_of(api_a.post(base + "updates/", {"outcome": "made_up"}), 400)
    assert problem["errors"][0]["pointer"] == "#/outcome"
    final = next(kind["code"] for kind in api_a.get("/api/v1/outcome-kinds/").json() if kind["final"])
    problem = problem_of(api_a.post(base + "updates/", {"outcome": final}), 409)  # not accepted yet
    assert problem["type"] == "urn:helpline:problem:referral-state" and problem["detail"]
    api_a.post(base + "decline/", {"reason": "Not ours"})
    problem_of(api_a.post(base + "acknowledge/"), 409)
    assert Referral.objects.get(pk=referral_a.pk).status == "declined"


def test_questions_both_ways(api_a, key_a, referral_a, question_a):
    base = f"/api/v1/referrals/{referral_a.pk}/questions/"
    listed = api_a.get(base).json()["questions"]
    assert [(q["id"], q["side"], q["text"], q["agency_may_answer"]) for q in listed] == [
        (str(question_a.pk), "helpline", QUESTION, True)
    ]
    answered = api_a.post(f"{base}{question_a.pk}/answer/", {"text": "She is with her aunt"})
    assert answered.status_code == 200 and answered.json()["question"] == str(question_a.pk)
    problem_of(api_a.post(f"{base}{question_a.pk}/answer/", {"text": "Again"}), 409)  # answered once
    asked = api_a.post(base, {"text": "Can we call the counsellor?"}).json()
    own = ReferralQuestion.objects.get(pk=asked["question"])
    assert own.asked_by_side == "agency" and own.asked_via == f"api:{key_a[0].prefix}"
    problem_of(api_a.post(f"{base}{own.pk}/answer/", {"text": "Answering myself"}), 404)
    listed = api_a.get(base).json()["questions"]
    assert [q["answer"] for q in listed] == ["She is with her aunt", ""]


def test_no_question_asked_or_answered_once_the_referral_is_declined(api_a, referral_a, question_a):
    base = f"/api/v1/referrals/{referral_a.pk}/"
    api_a.post(base + "decline/", {"reason": "Not ours"})
    asked = problem_of(api_a.post(base + "questions/", {"text": "One more thing?"}), 409)
    assert asked["type"] == "urn:helpline:problem:referral-state" and "declined" in asked["detail"]
    answered = problem_of(api_a.post(f"{base}questions/{question_a.pk}/answer/", {"text": "She is safe"}), 409)
    assert answered["type"] == "urn:helpline:problem:referral-state" and "declined" in answered["detail"]
    assert ReferralQuestion.objects.filter(referral=referral_a).count() == 1
    assert ReferralQuestion.objects.get(pk=question_a.pk).answered_at is None
