"""Logins, failed logins, logouts and 2FA steps through the real views leave events."""

import json

import pytest

from helpline import actions
from helpline.audit import actions as audit_actions
from helpline.audit.models import AuditEvent
from helpline.audit.selectors import audit_chain_verify
from tests.conftest import PASSWORD, login_verified

pytestmark = pytest.mark.django_db


def row_text(event: AuditEvent) -> str:
    values = AuditEvent.objects.filter(pk=event.pk).values().get()
    return json.dumps(values, default=str)


def test_login_and_logout_are_recorded_with_the_client_address(client, counsellor):
    response = client.post("/login/", {"username": "counsellor", "password": PASSWORD}, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    login = AuditEvent.objects.get(action=audit_actions.AUTH_LOGIN)
    assert (login.actor_id, login.actor_username) == (counsellor.pk, "counsellor")
    assert login.ip_address == "192.0.2.10"
    assert PASSWORD not in row_text(login)

    response = client.post("/logout/", REMOTE_ADDR="192.0.2.11")
    assert response.status_code == 302
    logout = AuditEvent.objects.get(action=audit_actions.AUTH_LOGOUT)
    assert (logout.actor_id, logout.ip_address) == (counsellor.pk, "192.0.2.11")
    assert audit_chain_verify().intact


def test_failed_login_of_a_real_account_names_it(client, counsellor):
    response = client.post(
        "/login/", {"username": "counsellor", "password": "wrong password"}, REMOTE_ADDR="192.0.2.20"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=audit_actions.AUTH_LOGIN_FAILED)
    assert event.actor_id is None
    assert (event.subject_id, event.subject_username) == (counsellor.pk, "counsellor")
    assert event.details == {"username": "counsellor"}
    assert event.ip_address == "192.0.2.20"
    assert "wrong password" not in row_text(event)


def test_failed_login_never_stores_what_was_typed_as_username(client, counsellor):
    typed = "Tr0ub4dor&3-my-password"
    client.post("/login/", {"username": typed, "password": "anything"}, REMOTE_ADDR="192.0.2.30")
    event = AuditEvent.objects.get(action=audit_actions.AUTH_LOGIN_FAILED)
    assert event.details == {"username": "unknown"}
    assert event.subject_id is None and event.subject_username == ""
    assert event.ip_address == "192.0.2.30"
    assert typed not in row_text(event)
    assert "anything" not in row_text(event)


def test_two_factor_steps_are_recorded_with_the_shared_action_names(client, counsellor):
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()  # the line and the account
    login_verified(client, counsellor)
    recorded = list(AuditEvent.objects.filter(id__gt=before).order_by("id").values_list("action", flat=True))
    assert recorded == [audit_actions.AUTH_LOGIN, actions.TWOFACTOR_VERIFIED]
    verified = AuditEvent.objects.get(action=actions.TWOFACTOR_VERIFIED)
    assert (verified.actor_id, verified.subject_id) == (counsellor.pk, counsellor.pk)
    assert verified.details["device"].startswith("helpline.sealedtotpdevice/")
    assert audit_chain_verify().intact


def test_refused_two_factor_code_is_recorded(client, counsellor):
    client.post("/login/", {"username": "counsellor", "password": PASSWORD}, REMOTE_ADDR="192.0.2.40")
    client.post("/2fa/verify/", {"token": "000000"}, REMOTE_ADDR="192.0.2.40")
    event = AuditEvent.objects.get(action=actions.TWOFACTOR_FAILED)
    assert (event.subject_id, event.ip_address) == (counsellor.pk, "192.0.2.40")
    assert "000000" not in json.dumps(event.details) + event.reason


def test_attempt_refused_by_the_lockout_is_marked(client, counsellor, settings):
    settings.HELPLINE_LOGIN_DELAY_SECONDS = 0  # the growing wait is tested in tests/helpline/security
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "counsellor", "password": "wrong password"}, REMOTE_ADDR="192.0.2.50")
    response = client.post("/login/", {"username": "counsellor", "password": PASSWORD}, REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 429
    failures = list(AuditEvent.objects.filter(action=audit_actions.AUTH_LOGIN_FAILED).order_by("id"))
    assert len(failures) == settings.AXES_FAILURE_LIMIT + 1
    assert failures[-1].details == {"username": "counsellor", "locked_out": True}
    assert not AuditEvent.objects.filter(action=audit_actions.AUTH_LOGIN).exists()


def test_a_script_hammering_the_login_page_cannot_flood_the_trail(client, settings):
    from django.core.cache import cache

    from helpline.audit.models import AuditEvent
    from helpline.audit.signals import FAILED_LOGINS_RECORDED_PER_MINUTE

    settings.AXES_FAILURE_LIMIT = 1000
    cache.clear()
    for n in range(FAILED_LOGINS_RECORDED_PER_MINUTE + 15):
        client.post("/login/", {"username": f"nobody{n}", "password": "x"}, REMOTE_ADDR="203.0.113.50")
    recorded = AuditEvent.objects.filter(action="auth.login_failed").count()
    assert recorded == FAILED_LOGINS_RECORDED_PER_MINUTE
    client.post("/login/", {"username": "someone", "password": "x"}, REMOTE_ADDR="198.51.100.1")
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == recorded + 1
