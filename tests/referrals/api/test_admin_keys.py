"""API keys in the admin: made through the service, the secret shown once on the page that answers
(never stored, never cached, never on the list or the key's own page), rotated and revoked by actions."""

import hashlib
import re

import pytest

from helpline.audit.models import AuditEvent
from referrals.models import ApiKey
from tests.referrals.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"hlk_[0-9a-f]{12}_[0-9a-f]{64}")


def test_an_administrator_makes_a_key_and_sees_its_secret_once(admin_client, admin_user, referral_a):
    response = admin_client.post(
        "/admin/referrals/apikey/add/",
        {"agency": referral_a.agency.pk, "name": "Case system", "scopes": ["read", "acknowledge"]},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    [secret] = SECRET.findall(response.content.decode())
    key = ApiKey.objects.get()
    assert key.created_by == admin_user and key.scopes == ["read", "acknowledge"]
    assert key.secret_sha256 == hashlib.sha256(secret.split("_")[2].encode()).hexdigest()
    assert AuditEvent.objects.filter(action="api.key_created", actor_id=admin_user.pk).exists()
    for page in ("/admin/referrals/apikey/", f"/admin/referrals/apikey/{key.pk}/change/"):
        shown = admin_client.get(page)
        assert shown.status_code == 200 and secret.split("_")[2] not in shown.content.decode()
    assert ApiClient(secret).get("/api/v1/referrals/").status_code == 200


def test_rotate_and_revoke_actions(admin_client, key_a, referral_a):
    old, old_secret = key_a
    response = admin_client.post(
        "/admin/referrals/apikey/", {"action": "rotate", "_selected_action": [old.pk]}, follow=False
    )
    assert response.status_code == 200
    [new_secret] = SECRET.findall(response.content.decode())
    assert new_secret != old_secret
    assert ApiClient(new_secret).get("/api/v1/referrals/").status_code == 200
    assert ApiClient(old_secret).get("/api/v1/referrals/").status_code == 200  # the overlap
    new = ApiKey.objects.get(replaces=old)
    admin_client.post("/admin/referrals/apikey/", {"action": "revoke", "_selected_action": [old.pk, new.pk]})
    assert ApiClient(new_secret).get("/api/v1/referrals/").status_code == 401
    assert ApiClient(old_secret).get("/api/v1/referrals/").status_code == 401
