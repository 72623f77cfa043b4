"""Every error under /api/ is an RFC 9457 problem (application/problem+json) that says nothing it
should not: no request content, no trace, no sign of another agency's referral. Through Django's
test client (the staff stack) and through the ASGI application (the slim machine stack)."""

import httpx
import pytest
from django.test import Client

from config.asgi import application
from tests.referrals.api.conftest import PROBLEM, ApiClient, problem_of
from tests.testapp.urls import CRASH_MESSAGE

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400(api_a, referral_a):
    response = api_a.client.post(
        f"/api/v1/referrals/{referral_a.pk}/decline/",
        "{not json",
        content_type="application/json",
        headers=api_a.headers(),
    )
    assert "not json" not in problem_of(response, 400).get("detail", "")


def test_validation_lists_each_field(api_a, referral_a):
    response = api_a.post(f"/api/v1/referrals/{referral_a.pk}/updates/", {"note": "x" * 3000})
    problem = problem_of(response, 400)
    assert {error["pointer"] for error in problem["errors"]} == {"#/outcome", "#/note"}
    assert "x" * 50 not in response.content.decode()


def test_a_bad_query_parameter_points_at_it(api_a, referral_a):
    problem = problem_of(api_a.get("/api/v1/referrals/", {"updated_since": "yesterday"}), 400)
    assert problem["errors"][0]["pointer"] == "#/query/updated_since"
    problem_of(api_a.get("/api/v1/referrals/", {"cursor": "forged"}), 404)


def test_method_media_and_path_errors(api_a, referral_a):
    assert problem_of(api_a.client.put("/api/v1/referrals/", headers=api_a.headers()), 405)["title"]
    problem_of(api_a.get("/api/v1/referrals/", headers={"Accept": "application/xml"}), 406)
    response = api_a.client.post(
        f"/api/v1/referrals/{referral_a.pk}/acknowledge/", "x", content_type="text/plain", headers=api_a.headers()
    )
    problem_of(response, 415)
    for path in ("/api/v1/nothing-here/", "/api/nothing/", "/api/v1/referrals/not-a-uuid/"):
        problem_of(api_a.get(path), 404)
    # Off /api/, Django's own page.
    assert Client().get("/nothing-here/")["Content-Type"].startswith("text/html")


def test_a_crash_is_a_500_problem_that_says_nothing(settings, key_a):
    settings.ROOT_URLCONF = "tests.testapp.urls"
    api = ApiClient(key_a[1], client=Client(raise_request_exception=False))
    response = api.get("/api/v1/test-crash/")
    problem_of(response, 500)
    assert "Amani" not in response.content.decode() and "RuntimeError" not in response.content.decode()
    assert CRASH_MESSAGE  # the fault the view raises


@pytest.mark.django_db(transaction=True)
async def test_through_the_machine_stack_problems_and_no_session(referral_a, key_a):
    """The ASGI app sends /api/v1/ to the slim handler: no cookie set, no session read, problems as errors."""
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        refused = await client.get("/api/v1/referrals/")
        assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM
        listed = await client.get("/api/v1/referrals/", headers={"Authorization": f"Bearer {key_a[1]}"})
        assert listed.status_code == 200 and listed.json()["results"][0]["id"] == str(referral_a.pk)
        assert "set-cookie" not in listed.headers
        missing = await client.get("/api/v1/nowhere/", headers={"Authorization": f"Bearer {key_a[1]}"})
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
        schema = await client.get("/api/schema/")
        assert schema.status_code == 200 and "openapi" in schema.text
