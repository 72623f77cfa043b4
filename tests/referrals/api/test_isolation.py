"""Agency A's key never sees or changes agency B's referrals, on any endpoint: B's referral does not
exist for A (404, the same as a made-up id), and nothing of it changes or leaks."""

import uuid

import pytest

from referrals.models import Referral
from tests.referrals.api.conftest import QUESTION, ApiClient, make_key, problem_of
from tests.referrals.conftest import referral_state

pytestmark = pytest.mark.django_db

# (method, path under /api/v1/referrals/{id}/, body)
ENDPOINTS = [
    ("get", "", None),
    ("get", "questions/", None),
    ("post", "acknowledge/", {}),
    ("post", "accept/", {"note": "We take it"}),
    ("post", "decline/", {"reason": "Not ours"}),
    ("post", "updates/", {"outcome": "investigation_opened", "note": "Opened"}),
    ("post", "questions/", {"text": "Where is she?"}),
    ("post", "questions/{question}/answer/", {"text": "She is safe"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_agency_a_cannot_reach_agency_b_referral(api_a, referral_a, referral_b, question_b, method, path, body):
    before = referral_state(referral_b)
    url = f"/api/v1/referrals/{referral_b.pk}/" + path.format(question=question_b.pk)
    response = getattr(api_a, method)(url, body) if method == "post" else api_a.get(url)
    problem_of(response, 404)
    text = response.content.decode()
    assert str(referral_b.case.reference) not in text and QUESTION not in text
    assert referral_state(referral_b) == before
    # The same answer as for a referral that does not exist at all.
    made_up = f"/api/v1/referrals/{uuid.uuid4()}/" + path.format(question=uuid.uuid4())
    other = getattr(api_a, method)(made_up, body) if method == "post" else api_a.get(made_up)
    assert (other.status_code, other.content) == (response.status_code, response.content)


def test_agency_a_cannot_answer_b_question_through_its_own_referral(api_a, referral_a, referral_b, question_b):
    before = referral_state(referral_b)
    url = f"/api/v1/referrals/{referral_a.pk}/questions/{question_b.pk}/answer/"
    problem_of(api_a.post(url, {"text": "Answered by the wrong agency"}), 404)
    assert referral_state(referral_b) == before


def test_each_agency_lists_only_its_own(api_a, api_b, referral_a, referral_b):
    listed_a = {row["id"] for row in api_a.get("/api/v1/referrals/").json()["results"]}
    listed_b = {row["id"] for row in api_b.get("/api/v1/referrals/").json()["results"]}
    assert listed_a == {str(referral_a.pk)} and listed_b == {str(referral_b.pk)}


def test_a_referral_not_yet_sent_is_not_listed_nor_readable(plan):
    """The police's proposal on the case is addressed to it, but not sent: it does not exist for its key."""
    proposal = plan["ke-police-nairobi"]
    api = ApiClient(make_key(proposal.agency)[1])
    assert api.get("/api/v1/referrals/").json()["results"] == []
    problem_of(api.get(f"/api/v1/referrals/{proposal.pk}/"), 404)
    problem_of(api.post(f"/api/v1/referrals/{proposal.pk}/acknowledge/"), 404)
    assert Referral.objects.get(pk=proposal.pk).status == "proposed"
