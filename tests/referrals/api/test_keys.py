"""API keys: shown once and stored hashed, only administrators make them, rotation keeps the old key
for its overlap and no longer, revocation is immediate, a session is never a way in, last use is
recorded (cheaply), and every call is audited under the key's prefix, never its secret."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpline.audit.models import AuditEvent
from referrals.models import ApiKey
from referrals.services.api_keys import api_key_create, api_key_revoke, api_key_rotate
from tests.conftest import login_verified
from tests.referrals.api.conftest import ApiClient, problem_of
from tests.referrals.world import agency_user

pytestmark = pytest.mark.django_db

LIST = "/api/v1/referrals/"


def test_the_secret_is_shown_once_and_only_its_digest_is_stored(key_a):
    key, secret = key_a
    scheme, prefix, rest = secret.split("_")
    assert scheme == "hlk" and prefix == key.prefix and len(rest) == 64
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM referrals_apikey WHERE id = %s", [key.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert rest not in row and secret not in row
    assert hashlib.sha256(rest.encode()).hexdigest() in row
    created = AuditEvent.objects.get(action="api.key_created")
    assert created.details["prefix"] == key.prefix and rest not in str(created.details)


def test_only_an_administrator_makes_rotates_or_revokes_keys(referral_a, counsellor, supervisor, admin_user):
    agency = referral_a.agency
    for person in (counsellor, supervisor, agency_user("officer", agency)):
        with pytest.raises(PermissionDenied):
            api_key_create(actor=person, agency=agency, name="x", scopes=["read"])
    key, _secret = api_key_create(actor=admin_user, agency=agency, name="Case system", scopes=["read"])
    for person in (counsellor, supervisor):
        with pytest.raises(PermissionDenied):
            api_key_rotate(actor=person, key=key)
        with pytest.raises(PermissionDenied):
            api_key_revoke(actor=person, key=key)
    with pytest.raises(ValidationError):
        api_key_create(actor=admin_user, agency=agency, name="x", scopes=["read", "admin"])
    with pytest.raises(ValidationError):
        api_key_create(actor=admin_user, agency=agency, name="x", scopes=[])


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer hlk_000000000000_" + "0" * 64,  # unknown prefix
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ],
)
def test_without_a_valid_key_nothing_is_answered(referral_a, key_a, authorization):
    api = ApiClient()
    response = api.get(LIST, headers={"Authorization": authorization} if authorization else None)
    body = problem_of(response, 401)
    assert body["type"] == "urn:helpline:problem:unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert str(referral_a.pk) not in response.content.decode()


def test_a_wrong_secret_for_a_real_prefix_is_refused_and_audited(api_a, key_a, referral_a):
    key, secret = key_a
    forged = secret[:-4] + ("0000" if not secret.endswith("0000") else "1111")
    problem_of(ApiClient(forged).get(LIST), 401)
    problem_of(ApiClient(forged).get(LIST), 401)
    refused = AuditEvent.objects.filter(action="api.key_refused")
    assert refused.count() == 1  # once a minute per key, however many tries
    assert refused.get().details["prefix"] == key.prefix


def test_a_logged_in_staff_or_authority_session_opens_nothing(client, referral_a, key_a, admin_user):
    officer = agency_user("officer", referral_a.agency)
    for user in (officer, admin_user):
        client.logout()
        login_verified(client, user)
        body = problem_of(ApiClient(client=client).get(LIST), 401)
        assert body["type"] == "urn:helpline:problem:unauthenticated"
        problem_of(ApiClient(client=client).post(f"{LIST}{referral_a.pk}/acknowledge/"), 401)
    referral_a.refresh_from_db()
    assert referral_a.status == "sent"


def test_revoking_stops_the_key_at_once(api_a, key_a, admin_user):
    assert api_a.get(LIST).status_code == 200
    api_key_revoke(actor=admin_user, key=key_a[0])
    problem_of(api_a.get(LIST), 401)
    assert AuditEvent.objects.filter(action="api.key_revoked", actor_id=admin_user.pk).exists()


def test_a_rotated_key_works_through_its_overlap_and_not_after(api_a, key_a, admin_user):
    old, _secret = key_a
    new, new_secret = api_key_rotate(actor=admin_user, key=old, overlap=timedelta(hours=24))
    assert ApiClient(new_secret).get(LIST).status_code == 200
    assert api_a.get(LIST).status_code == 200  # during the overlap
    old.refresh_from_db()
    assert old.replaced_by == new and timedelta(hours=23) < old.expires_at - timezone.now() <= timedelta(hours=24)
    # The overlap passes.
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    problem_of(api_a.get(LIST), 401)
    assert ApiClient(new_secret).get(LIST).status_code == 200
    with pytest.raises(ValidationError):
        api_key_rotate(actor=admin_user, key=old)  # an expired key is not rotated again


def test_rotation_without_overlap_ends_the_old_key_now(api_a, key_a):
    new, new_secret = api_key_rotate(actor=None, key=key_a[0], overlap=timedelta(0))
    problem_of(api_a.get(LIST), 401)
    assert ApiClient(new_secret).get(LIST).status_code == 200
    assert AuditEvent.objects.get(action="api.key_rotated").details["old_prefix"] == key_a[0].prefix


def test_last_use_is_recorded_with_one_update_a_minute_at_most(api_a, key_a):
    key = key_a[0]
    assert key.last_used_at is None
    api_a.get(LIST)
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        api_a.get(LIST)
    assert not [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "referrals_apikey"')]
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api_a.get(LIST)
    key.refresh_from_db()
    assert key.last_used_at > first - timedelta(minutes=2)


def test_every_call_is_audited_with_the_key_prefix_never_the_secret(api_a, key_a, referral_a):
    key, secret = key_a
    api_a.get(LIST)
    api_a.get(f"{LIST}{referral_a.pk}/")
    api_a.post(f"{LIST}{referral_a.pk}/acknowledge/")
    calls = list(AuditEvent.objects.filter(action="api.called").order_by("created_at", "id"))
    assert [(c.details["endpoint"], c.details["status"]) for c in calls] == [
        ("referrals", 200),
        ("referral", 200),
        ("acknowledge", 200),
    ]
    assert all(c.details["prefix"] == key.prefix and c.details["agency"] == "ke-police-nairobi" for c in calls)
    assert calls[1].details["referral"] == str(referral_a.pk)
    everything = str(list(AuditEvent.objects.values_list("details", "reason")))
    assert secret.split("_")[2] not in everything
    # The service's own events say how the step came in.
    assert AuditEvent.objects.get(action="referral.acknowledged").details["via"] == f"api:{key.prefix}"
    assert AuditEvent.objects.get(action="referral.shared_read").details["via"] == f"api:{key.prefix}"


def test_a_fetch_audits_the_shared_read_and_the_call_in_one_write(api_a, key_a, referral_a):
    with CaptureQueriesContext(connection) as captured:
        assert api_a.get(f"{LIST}{referral_a.pk}/").status_code == 200
    read = AuditEvent.objects.get(action="referral.shared_read")
    call = AuditEvent.objects.get(action="api.called")
    assert read.record_id == str(referral_a.pk) and read.details["via"] == f"api:{key_a[0].prefix}"
    assert read.details["fields"] and call.details["referral"] == str(referral_a.pk)
    assert sum("INSERT INTO audit_auditevent" in query["sql"] for query in captured.captured_queries) == 1


def test_a_fetch_whose_answer_fails_still_audits_the_read(monkeypatch, key_a, referral_a):
    """The document was unsealed: even if writing the answer crashes, the read is on the audit trail."""
    from referrals.api import serializers

    def crash(self, instance):
        raise RuntimeError("the answer could not be written")

    monkeypatch.setattr(serializers.ReferralSharedSerializer, "to_representation", crash)
    api = ApiClient(key_a[1], client=Client(raise_request_exception=False))
    assert api.get(f"{LIST}{referral_a.pk}/").status_code == 500
    assert AuditEvent.objects.filter(action="referral.shared_read", record_id=str(referral_a.pk)).count() == 1
    assert AuditEvent.objects.get(action="api.called").details["status"] == 500


def test_a_revoked_key_is_refused_on_its_very_next_call(api_a, key_a, referral_a, admin_user):
    assert api_a.get(LIST).status_code == 200
    api_key_revoke(actor=admin_user, key=key_a[0])
    problem_of(api_a.get(LIST), 401)
    problem_of(api_a.get(f"{LIST}{referral_a.pk}/"), 401)
