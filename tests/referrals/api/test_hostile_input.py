"""What a key holder can send that no client would: every answer is a problem of the right kind,
never a server error, and every call, even one the server failed on, is in the audit trail."""

import base64

import pytest
from django.test import Client

from helpline.audit.models import AuditEvent
from tests.referrals.api.conftest import ApiClient, problem_of

pytestmark = pytest.mark.django_db

LIST = "/api/v1/referrals/"


def test_deeply_nested_json_is_a_400_not_a_server_error(key_a, referral_a):
    api = ApiClient(key_a[1], client=Client(raise_request_exception=False))
    nested = "[" * 100_000 + "]" * 100_000  # 200 kB, well under the upload limit
    response = api.client.post(
        f"{LIST}{referral_a.pk}/accept/", nested, content_type="application/json", headers=api.headers()
    )
    problem_of(response, 400)
    referral_a.refresh_from_db()
    assert referral_a.status == "sent"


@pytest.mark.parametrize("position", ["notadate", "\x00", "2026-13-45 99:99"])
def test_a_forged_cursor_position_is_an_invalid_cursor(api_a, referral_a, position):
    """The cursor is ours, opaque: one the client made up is a 404 "Invalid cursor", whatever is in it,
    not a referral-state conflict that echoes it back."""
    cursor = base64.b64encode(f"p={position}".encode()).decode()
    body = problem_of(api_a.get(LIST, {"cursor": cursor}), 404)
    assert body["type"] == "about:blank" and position not in body.get("detail", "")


def test_a_call_the_server_failed_on_is_audited_too(settings, key_a):
    settings.ROOT_URLCONF = "tests.testapp.urls"
    api = ApiClient(key_a[1], client=Client(raise_request_exception=False))
    problem_of(api.get("/api/v1/test-crash/"), 500)
    call = AuditEvent.objects.get(action="api.called")
    assert call.details["prefix"] == key_a[0].prefix and call.details["status"] == 500
