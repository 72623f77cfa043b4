"""The audit trail in the admin is read-only, even for a verified superuser; 2FA resets are audited."""

import pytest

from helpline import actions
from helpline.audit import actions as audit_actions
from helpline.audit.linker import audit_link_pending
from helpline.audit.models import AuditEvent, AuditLink
from helpline.audit.selectors import audit_chain_verify
from helpline.models import SealedTOTPDevice
from tests.conftest import login_verified

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/audit/auditevent/"


@pytest.fixture
def admin_client(client, admin_user):
    return login_verified(client, admin_user)


def test_changelist_lists_events_without_add_or_actions(admin_client):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    content = response.content.decode()
    assert "2fa.verified" in content  # the admin's own login
    assert f'href="{CHANGELIST}add/"' not in content
    assert 'name="action"' not in content  # no bulk actions, so no "delete selected"


@pytest.mark.parametrize(
    "query",
    [
        "?action=auth.login",
        "?record_type=-",
        "?record_type=helpline.staff",
        "?q=administrator",
        "?created_at__year=2020",
        "?action=custom.unknown",
    ],
)
def test_filters_search_and_date_hierarchy_answer(admin_client, query):
    assert admin_client.get(CHANGELIST + query).status_code == 200


def test_filter_by_action_shows_only_that_action(admin_client):
    response = admin_client.get(CHANGELIST + "?action=auth.login")
    shown = {event.action for event in response.context["cl"].result_list}
    assert shown == {audit_actions.AUTH_LOGIN}


def test_adding_is_refused(admin_client):
    before = AuditEvent.objects.count()
    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    response = admin_client.post(
        CHANGELIST + "add/", {"action": "forged.event", "prev_hash": "0" * 64, "hash": "1" * 64}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.count() == before
    assert not AuditEvent.objects.filter(action="forged.event").exists()


def test_detail_page_is_read_only_and_refuses_changes_and_deletion(admin_client):
    event = AuditEvent.objects.get(action=audit_actions.AUTH_LOGIN)
    url = f"{CHANGELIST}{event.pk}/change/"
    assert "not linked yet" in admin_client.get(url).content.decode()
    audit_link_pending()
    response = admin_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert AuditLink.objects.get(event=event).hash in content
    assert 'name="_save"' not in content and "deletelink" not in content
    assert admin_client.post(url, {"action": "rewritten", "reason": "x"}).status_code == 403
    assert admin_client.get(f"{CHANGELIST}{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == audit_actions.AUTH_LOGIN
    assert audit_chain_verify().intact


def test_reset_two_factor_from_the_user_admin_asks_first_then_resets_and_audits(admin_client, admin_user, counsellor):
    form = {"action": "reset_two_factor", "_selected_action": [counsellor.pk]}
    confirmation = admin_client.post("/admin/auth/user/", form)
    assert confirmation.status_code == 200
    assert b"Reset two-factor authentication?" in confirmation.content
    assert SealedTOTPDevice.objects.filter(user=counsellor).exists()

    # Confirming without a reason asks again and resets nothing.
    again = admin_client.post("/admin/auth/user/", {**form, "confirm": "yes"})
    assert again.status_code == 200 and b"Say why these resets are made." in again.content
    assert SealedTOTPDevice.objects.filter(user=counsellor).exists()

    response = admin_client.post("/admin/auth/user/", {**form, "confirm": "yes", "reason": "lost phone, called back"})
    assert response.status_code == 302
    assert not SealedTOTPDevice.objects.filter(user=counsellor).exists()
    event = AuditEvent.objects.get(action=actions.TWOFACTOR_RESET)
    assert (event.actor_id, event.actor_username) == (admin_user.pk, admin_user.username)
    assert (event.subject_id, event.subject_username) == (counsellor.pk, "counsellor")
    assert event.reason == "lost phone, called back"
    assert audit_chain_verify().intact


def test_an_admin_cannot_reset_their_own_two_factor_from_the_list(admin_client, admin_user):
    form = {"action": "reset_two_factor", "_selected_action": [admin_user.pk], "confirm": "yes", "reason": "test"}
    admin_client.post("/admin/auth/user/", form)
    assert SealedTOTPDevice.objects.filter(user=admin_user).exists()
    assert not AuditEvent.objects.filter(action=actions.TWOFACTOR_RESET).exists()


def test_counsellor_cannot_open_the_audit_trail(client, counsellor):
    login_verified(client, counsellor)
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
