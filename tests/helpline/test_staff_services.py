"""Roles, lines, passwords and 2FA change only through helpline.services.staff: audited, with who and why.

Each attack an administrator (or anyone else) might try is repeated here and must change nothing.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from helpline import actions
from helpline.audit.models import AuditEvent
from helpline.models import Role, SealedTOTPDevice, Staff
from helpline.services.lines import helpline_ensure
from helpline.services.staff import (
    staff_create,
    staff_update,
    user_password_change,
    user_password_set,
    user_update,
)
from helpline.services.twofactor import twofactor_reset
from tests.conftest import PASSWORD, make_staff

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a different long passphrase"


@pytest.fixture
def second_line(db):
    return helpline_ensure(slug="second", name="Second line", languages=["en"])


def _snapshot(user):
    staff = Staff.objects.get(user=user)
    user.refresh_from_db()
    return (staff.role, sorted(staff.lines.values_list("slug", flat=True)), user.is_staff, user.is_superuser)


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_staff_create_by_an_administrator_is_audited_with_role_and_lines(admin_user, demo_line):
    staff = staff_create(
        actor=admin_user,
        username="newcomer",
        password=PASSWORD,
        role=Role.COUNSELLOR,
        lines=[demo_line],
        languages=["en", "sw"],
        capacity=2,
        reason="Joins the Monday team",
    )
    [event] = [event for event in _events(actions.STAFF_CREATED) if event.subject_username == "newcomer"]
    assert (event.actor_username, event.subject_username, event.record_id) == (
        "administrator",
        "newcomer",
        str(staff.pk),
    )
    assert event.details == {"role": "counsellor", "lines": ["demo"], "languages": ["en", "sw"], "capacity": 2}
    assert event.reason == "Joins the Monday team"
    assert PASSWORD not in str(event.details) + event.reason
    assert not staff.user.is_staff  # only administrators enter the admin


def test_nobody_but_an_administrator_creates_staff(supervisor):
    with pytest.raises(PermissionDenied):
        staff_create(actor=supervisor, username="friend", password=PASSWORD, role=Role.SUPERVISOR)
    assert not Staff.objects.filter(user__username="friend").exists()


def test_an_administrator_cannot_make_themselves_a_supervisor(admin_user):
    before = _snapshot(admin_user)
    with pytest.raises(PermissionDenied, match="own role or lines"):
        staff_update(actor=admin_user, staff=admin_user.staff, role=Role.SUPERVISOR, reason="I want to read along")
    assert _snapshot(admin_user) == before
    assert not _events(actions.STAFF_ROLE_CHANGED)


def test_an_administrator_cannot_add_a_line_to_themselves(admin_user, demo_line):
    before = _snapshot(admin_user)
    with pytest.raises(PermissionDenied, match="own role or lines"):
        staff_update(actor=admin_user, staff=admin_user.staff, lines=[demo_line], reason="just to look")
    assert _snapshot(admin_user) == before
    assert not _events(actions.STAFF_LINES_CHANGED)


def test_a_supervisor_cannot_change_anyones_role(supervisor, counsellor):
    before = _snapshot(counsellor)
    with pytest.raises(PermissionDenied):
        staff_update(actor=supervisor, staff=counsellor.staff, role=Role.SUPERVISOR, reason="promotion")
    assert _snapshot(counsellor) == before


def test_a_role_change_of_another_user_is_audited_with_old_new_and_reason(admin_user, counsellor):
    staff_update(actor=admin_user, staff=counsellor.staff, role=Role.SUPERVISOR, reason="Team lead from May")
    [event] = _events(actions.STAFF_ROLE_CHANGED)
    assert (event.actor_username, event.subject_username) == ("administrator", "counsellor")
    assert event.details == {"old": "counsellor", "new": "supervisor"}
    assert event.reason == "Team lead from May"
    assert Staff.objects.get(user=counsellor).role == Role.SUPERVISOR


def test_becoming_an_administrator_opens_the_admin_and_leaving_closes_it(admin_user, counsellor):
    staff_update(actor=admin_user, staff=counsellor.staff, role=Role.ADMIN, reason="Now runs the platform")
    assert _snapshot(counsellor)[2:] == (True, True)
    staff_update(actor=admin_user, staff=counsellor.staff, role=Role.COUNSELLOR, reason="Back to the phones")
    assert _snapshot(counsellor)[2:] == (False, False)


def test_a_lines_change_is_audited_with_old_and_new_lines(admin_user, counsellor, demo_line, second_line):
    staff_update(actor=admin_user, staff=counsellor.staff, lines=[second_line], reason="Moves to the second line")
    [event] = _events(actions.STAFF_LINES_CHANGED)
    assert event.details == {"old": ["demo"], "new": ["second"], "added": ["second"], "removed": ["demo"]}
    assert event.subject_username == "counsellor" and event.reason == "Moves to the second line"


def test_a_role_or_lines_change_without_a_reason_is_refused(admin_user, counsellor):
    before = _snapshot(counsellor)
    with pytest.raises(ValidationError, match="Say why"):
        staff_update(actor=admin_user, staff=counsellor.staff, role=Role.SUPERVISOR, reason="  ")
    assert _snapshot(counsellor) == before


def test_profile_changes_are_audited_by_name_and_value(admin_user, counsellor):
    staff_update(actor=admin_user, staff=counsellor.staff, capacity=5, languages=["en", "fr"], team="Nights")
    [event] = _events(actions.STAFF_PROFILE_CHANGED)
    assert event.details == {"capacity": [3, 5], "languages": [["en"], ["en", "fr"]], "team": ["", "Nights"]}
    assert not _events(actions.STAFF_ROLE_CHANGED) and not _events(actions.STAFF_LINES_CHANGED)


def test_one_may_change_ones_own_capacity_but_nothing_is_recorded_when_nothing_changes(admin_user):
    staff_update(actor=admin_user, staff=admin_user.staff, capacity=3, role=Role.ADMIN)
    assert not _events(actions.STAFF_PROFILE_CHANGED)


def test_user_update_names_the_fields_and_refuses_self_deactivation(admin_user, counsellor):
    user_update(actor=admin_user, user=counsellor, email="c@example.org", is_active=False, reason="left")
    [event] = _events(actions.USER_CHANGED)
    assert event.details == {"fields": ["email", "is_active"], "is_active": [True, False]}
    assert "c@example.org" not in str(event.details)
    with pytest.raises(PermissionDenied):
        user_update(actor=admin_user, user=admin_user, is_active=False)
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_password_set_for_another_user_is_audited_without_the_password(admin_user, counsellor):
    user_password_set(actor=admin_user, user=counsellor, password=NEW_PASSWORD, reason="forgot it, called back")
    counsellor.refresh_from_db()
    assert counsellor.check_password(NEW_PASSWORD)
    [event] = _events(actions.USER_PASSWORD_SET)
    assert (event.actor_username, event.subject_username, event.reason) == (
        "administrator",
        "counsellor",
        "forgot it, called back",
    )
    assert NEW_PASSWORD not in str(event.details) + event.reason


def test_password_set_is_refused_for_oneself_for_non_administrators_and_for_weak_passwords(
    admin_user, supervisor, counsellor
):
    with pytest.raises(PermissionDenied, match="current one"):
        user_password_set(actor=admin_user, user=admin_user, password=NEW_PASSWORD, reason="x")
    with pytest.raises(PermissionDenied):
        user_password_set(actor=supervisor, user=counsellor, password=NEW_PASSWORD, reason="x")
    with pytest.raises(ValidationError):
        user_password_set(actor=admin_user, user=counsellor, password="short", reason="x")
    counsellor.refresh_from_db()
    admin_user.refresh_from_db()
    assert counsellor.check_password(PASSWORD) and admin_user.check_password(PASSWORD)
    assert not _events(actions.USER_PASSWORD_SET)


def test_own_password_change_needs_the_old_one_and_is_audited(counsellor):
    with pytest.raises(ValidationError):
        user_password_change(user=counsellor, old_password="wrong", new_password=NEW_PASSWORD)
    user_password_change(user=counsellor, old_password=PASSWORD, new_password=NEW_PASSWORD)
    [event] = _events(actions.USER_PASSWORD_CHANGED)
    assert event.actor_username == event.subject_username == "counsellor"


def test_twofactor_reset_only_by_an_administrator_never_of_oneself_with_the_reason(admin_user, supervisor, counsellor):
    with pytest.raises(PermissionDenied):
        twofactor_reset(actor=supervisor, user=counsellor, reason="x")
    with pytest.raises(PermissionDenied):
        twofactor_reset(actor=admin_user, user=admin_user, reason="x")
    assert SealedTOTPDevice.objects.filter(user__in=[counsellor, admin_user]).count() == 2
    twofactor_reset(actor=admin_user, user=counsellor, reason="new phone")
    assert not SealedTOTPDevice.objects.filter(user=counsellor).exists()
    [event] = _events(actions.TWOFACTOR_RESET)
    assert (event.actor_username, event.subject_username, event.reason) == ("administrator", "counsellor", "new phone")


def test_two_administrators_audit_each_others_changes(admin_user, demo_line):
    colleague = make_staff("colleague_admin", "admin")
    staff_update(actor=colleague, staff=admin_user.staff, lines=[demo_line], reason="Covers the demo line")
    [event] = _events(actions.STAFF_LINES_CHANGED)
    assert (event.actor_username, event.subject_username) == ("colleague_admin", "administrator")
