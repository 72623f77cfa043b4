"""The referral API's world: two agencies with a referral each, their keys, and a client for each.

``police`` (ke-police-nairobi) and ``social`` (ke-childrens-services-nairobi) each got one referral of
the counsellor's sextortion case, sent through the portal transport. ``key_a`` is the police's key
with every scope; ``key_b`` the social services'. ``api`` sends requests with a key through Django's
test client; ``asgi`` through the real ASGI application (the slim machine stack).
"""

import json

import pytest
from django.test import Client

from referrals.services.api_keys import api_key_create
from tests.referrals.world import referral_sent

ALL_SCOPES = ["read", "acknowledge", "update"]
PROBLEM = "application/problem+json"
QUESTION = "Is the child safe at home tonight?"


@pytest.fixture
def referral_a(sent):
    return sent


@pytest.fixture
def referral_b(plan, counsellor, supervisor, referral_a):
    return referral_sent(plan["ke-childrens-services-nairobi"], counsellor=counsellor, supervisor=supervisor)


@pytest.fixture
def question_b(referral_b, counsellor):
    """A question of the helpline to the social services, on their referral."""
    from referrals.services.agency_side import referral_question_ask

    return referral_question_ask(actor=counsellor, referral=referral_b, text=QUESTION)


@pytest.fixture
def question_a(referral_a, counsellor):
    from referrals.services.agency_side import referral_question_ask

    return referral_question_ask(actor=counsellor, referral=referral_a, text=QUESTION)


def make_key(agency, scopes=ALL_SCOPES, name="Case system"):
    return api_key_create(actor=None, agency=agency, name=name, scopes=scopes)


@pytest.fixture
def key_a(referral_a):
    return make_key(referral_a.agency)


@pytest.fixture
def key_b(referral_b):
    return make_key(referral_b.agency)


class ApiClient:
    """Django's test client sending one API key (or none) as a Bearer token, JSON bodies."""

    def __init__(self, secret=None, client=None):
        self.client = client or Client()
        self.secret = secret

    def headers(self, extra=None):
        headers = dict(extra or {})
        if self.secret:
            headers.setdefault("Authorization", f"Bearer {self.secret}")
        return headers

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, headers=self.headers(headers))

    def post(self, path, body=None, headers=None):
        return self.client.post(
            path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self.headers(headers),
        )


@pytest.fixture
def api_a(key_a):
    return ApiClient(key_a[1])


@pytest.fixture
def api_b(key_b):
    return ApiClient(key_b[1])


def problem_of(response, status):
    """The response is an RFC 9457 problem with ``status``; returns its body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = json.loads(response.content)
    assert {"type", "title", "status"} <= set(body) and body["status"] == status, body
    return body
