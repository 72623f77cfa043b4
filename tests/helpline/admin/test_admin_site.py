"""The admin as a helpline manager sees it: the platform's name, the pages they work with, nothing internal."""

import pytest

from helpline import actions
from helpline.audit.models import AuditEvent
from helpline.models import Role
from helpline.services.staff import staff_update

pytestmark = pytest.mark.django_db

INTERNAL_PAGES = [
    "/admin/axes/accessattempt/",
    "/admin/axes/accesslog/",
    "/admin/axes/accessfailurelog/",
    "/admin/django_tasks_db/dbtaskresult/",
    "/admin/otp_totp/totpdevice/",
    "/admin/otp_static/staticdevice/",
    "/admin/auth/group/",
    "/admin/sessions/session/",
    "/admin/helpline/periodicjobstate/",
    "/admin/helpline/sealedtotpdevice/",
    "/admin/helpline/backupcodedevice/",
    "/admin/helpline/backupcode/",
    "/admin/helpline/hashedsession/",
    "/admin/helpline/loginunlock/",
]


def test_the_index_is_branded_and_grouped_for_a_manager(admin_client):
    response = admin_client.get("/admin/")
    content = response.content.decode()
    assert "<title>Configure the helpline | Helpline administration</title>" in content
    assert "Helpline administration" in content and "Django administration" not in content
    sections = [
        (app["name"], [model["object_name"] for model in app["models"]]) for app in response.context["app_list"]
    ]
    assert sections[:2] == [("Lines", ["Helpline", "ChannelEndpoint", "CannedResponse"]), ("People", ["Staff", "User"])]
    names = {name for _section, models in sections for name in models}
    assert names >= {"AuditEvent"}
    for internal in (
        "AccessAttempt",
        "AccessLog",
        "AccessFailureLog",
        "DBTaskResult",
        "TOTPDevice",
        "SealedTOTPDevice",
        "BackupCodeDevice",
        "Group",
        "Session",
        "HashedSession",
    ):
        assert internal not in names


@pytest.mark.parametrize("path", INTERNAL_PAGES)
def test_internal_tables_have_no_admin_page(admin_client, path):
    assert admin_client.get(path).status_code == 404


def test_audit_events_are_listed_and_shown_with_their_labels(admin_client, admin_user, counsellor):
    staff_update(actor=admin_user, staff=counsellor.staff, role=Role.SUPERVISOR, reason="Team lead")
    listing = admin_client.get("/admin/audit/auditevent/").content.decode()
    assert "Role changed" in listing and "Staff member added" in listing
    event = AuditEvent.objects.get(action=actions.STAFF_ROLE_CHANGED)
    detail = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/").content.decode()
    assert "Role changed" in detail and "staff.role_changed" in detail and "Team lead" in detail
    filtered = admin_client.get("/admin/audit/auditevent/?action=staff.role_changed")
    assert [e.action for e in filtered.context["cl"].result_list] == [actions.STAFF_ROLE_CHANGED]


def test_the_header_password_link_leads_to_the_audited_own_password_form(admin_client):
    content = admin_client.get("/admin/password_change/").content.decode()
    assert 'name="old_password"' in content and 'name="new_password1"' in content
