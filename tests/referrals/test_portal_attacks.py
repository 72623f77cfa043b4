"""The agency portal under attack (referrals.views.authority): input built to break it is a clear
refusal, never a server error; a form posted from another site is refused; a user whose agency was
deactivated, or who was taken off the agency, loses the agency's referrals at once."""

import re

import pytest
from django.test import Client

from referrals.models import Referral
from referrals.services import referral_question_ask
from tests.conftest import login_verified
from tests.referrals.conftest import ANSWER, CHILD_NAME, NOTE, QUESTION, SUMMARY, referral_state
from tests.referrals.world import agency_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_a(sent):
    return agency_user("officer_a", sent.agency)


@pytest.fixture
def client_a(client, officer_a):
    client.raise_request_exception = False
    return login_verified(client, officer_a)


def _url(referral, step=""):
    return f"/authority/referrals/{referral.pk}/{step}"


def test_an_outcome_code_with_a_nul_byte_is_a_clear_error_not_a_server_error(client_a, sent):
    client_a.post(_url(sent, "accept/"))
    before = referral_state(sent)
    for outcome in ("investigation_opened\x00", "\x00", "closed_by_prosecutor\x00; DROP"):
        response = client_a.post(_url(sent, "updates/"), {"outcome": outcome, "note": NOTE})
        assert response.status_code == 400, (repr(outcome), response.status_code)
        assert "Choose an update or outcome from the list." in response.content.decode()
    assert referral_state(sent) == before


BAD_INBOX_QUERIES = [
    "?page=-1",
    "?page=0",
    "?page=abc",
    "?page=1e5",
    "?page=99999999999999999999999",
    "?page=%00",
    "?show=%00",
    "?show=new&show=closed",
    "?show=" + "x" * 20_000,
    "?show=<script>alert(1)</script>",
]


@pytest.mark.parametrize("query", BAD_INBOX_QUERIES, ids=range(len(BAD_INBOX_QUERIES)))
def test_the_inbox_answers_bad_filters_and_pages_with_a_page(client_a, sent, query):
    response = client_a.get("/authority/" + query)
    assert response.status_code == 200, response.status_code
    assert b"<script>alert(1)" not in response.content


def test_a_step_posted_without_the_csrf_token_is_refused(sent, officer_a, counsellor):
    question = referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    client = login_verified(Client(), officer_a)
    client.handler.enforce_csrf_checks = True
    before = referral_state(sent)
    for step, data in (
        ("acknowledge/", {}),
        ("accept/", {"note": NOTE}),
        ("decline/", {"reason": "not ours"}),
        ("updates/", {"outcome": "investigation_opened"}),
        ("questions/", {"text": QUESTION}),
        (f"questions/{question.pk}/answer/", {"text": ANSWER}),
    ):
        assert client.post(_url(sent, step), data).status_code == 403, step
    assert referral_state(sent) == before
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(_url(sent)).content.decode())[1]
    assert client.post(_url(sent, "acknowledge/"), {"csrfmiddlewaretoken": token}).status_code == 302


def _refused_everywhere(client, referral):
    inbox = client.get("/authority/?show=all")
    assert inbox.status_code == 200 and referral.case.reference.encode() not in inbox.content
    assert str(referral.pk).encode() not in inbox.content
    before = referral_state(referral)
    page = client.get(_url(referral))
    assert page.status_code == 404
    for text in (CHILD_NAME, SUMMARY):
        assert text.encode() not in page.content
    assert client.post(_url(referral, "acknowledge/")).status_code == 404
    assert client.post(_url(referral, "questions/"), {"text": QUESTION}).status_code == 404
    assert referral_state(referral) == before


def test_a_deactivated_agencys_user_loses_its_referrals_at_once(client_a, sent):
    from referrals.services.agencies import agency_update

    assert client_a.get(_url(sent)).status_code == 200
    agency_update(actor=None, agency=sent.agency, active=False, reason="Closed down")
    _refused_everywhere(client_a, sent)


def test_a_user_taken_off_the_agency_loses_its_referrals_at_once(client_a, sent, officer_a):
    from referrals.services.agencies import agency_membership_set

    assert client_a.get(_url(sent)).status_code == 200
    agency_membership_set(actor=None, user=officer_a, agency=None, reason="Left the unit")
    _refused_everywhere(client_a, sent)


def test_a_user_moved_to_another_agency_sees_only_the_new_one(client_a, sent, officer_a, agencies):
    from referrals.services.agencies import agency_membership_set

    agency_membership_set(actor=None, user=officer_a, agency=agencies["ke-police-dcs"], reason="Moved")
    _refused_everywhere(client_a, sent)
    assert Referral.objects.get(pk=sent.pk).status == "sent"
