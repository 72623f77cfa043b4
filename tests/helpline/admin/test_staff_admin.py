"""The admin's staff and user pages, tried by an administrator who wants more than they should have.

Nobody changes their own role or lines; changes to others go through the audited
service with a reason; the lists' bulk actions, in-place edits and hidden fields
cannot get around it.
"""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model

from helpline import actions
from helpline.audit.models import AuditEvent
from helpline.models import Role, SealedTOTPDevice, Staff
from helpline.services.lines import helpline_ensure
from tests.conftest import PASSWORD, login_verified

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "a brand new long passphrase"


def staff_url(user, suffix="change/"):
    return f"/admin/helpline/staff/{Staff.objects.get(user=user).pk}/{suffix}"


def staff_form(user, **changes):
    staff = Staff.objects.get(user=user)
    data = {
        "role": staff.role,
        "lines": [str(pk) for pk in staff.lines.values_list("pk", flat=True)],
        "languages": staff.languages,
        "capacity": str(staff.capacity),
        "team": staff.team,
        "reason": "",
        "_save": "Save",
    }
    data.update(changes)
    return data


def state(user):
    staff = Staff.objects.select_related("user").get(user=user)
    return (
        staff.role,
        sorted(staff.lines.values_list("slug", flat=True)),
        staff.capacity,
        staff.user.is_staff,
        staff.user.is_superuser,
    )


def audited(*names):
    return list(AuditEvent.objects.filter(action__in=names).order_by("id"))


ROLE_AND_LINE_ACTIONS = (actions.STAFF_ROLE_CHANGED, actions.STAFF_LINES_CHANGED, actions.STAFF_PROFILE_CHANGED)


# --- one's own role and lines ------------------------------------------------------------


def test_an_administrator_making_themselves_a_supervisor_is_refused_and_nothing_changes(admin_client, admin_user):
    before = state(admin_user)
    response = admin_client.post(
        staff_url(admin_user), staff_form(admin_user, role=Role.SUPERVISOR, reason="I need to read along")
    )
    assert response.status_code == 200
    assert "You cannot change your own role or lines. Ask another administrator to do it." in response.content.decode()
    assert state(admin_user) == before
    assert not audited(*ROLE_AND_LINE_ACTIONS)


def test_an_administrator_adding_a_line_to_themselves_is_refused_and_nothing_changes(
    admin_client, admin_user, demo_line
):
    before = state(admin_user)
    response = admin_client.post(
        staff_url(admin_user), staff_form(admin_user, lines=[str(demo_line.pk)], reason="Curious")
    )
    assert response.status_code == 200
    assert "You cannot change your own role or lines" in response.content.decode()
    assert state(admin_user) == before
    assert not audited(*ROLE_AND_LINE_ACTIONS)


def test_moving_ones_own_profile_to_another_user_through_a_forged_field_is_ignored(
    admin_client, admin_user, supervisor
):
    admin_client.post(staff_url(admin_user), {**staff_form(admin_user, capacity="4"), "user": str(supervisor.pk)})
    assert Staff.objects.get(user=admin_user).capacity == 4
    assert Staff.objects.get(user=supervisor).role == Role.SUPERVISOR
    assert Staff.objects.filter(user=admin_user).count() == 1


# --- changes to others -------------------------------------------------------------------------


def test_a_role_change_of_another_user_is_audited_with_actor_subject_old_new_and_reason(admin_client, counsellor):
    response = admin_client.post(
        staff_url(counsellor), staff_form(counsellor, role=Role.SUPERVISOR, reason="Team lead from May")
    )
    assert response.status_code == 302
    assert state(counsellor)[0] == Role.SUPERVISOR
    [event] = audited(actions.STAFF_ROLE_CHANGED)
    assert (event.actor_username, event.subject_username) == ("administrator", "counsellor")
    assert event.details == {"old": "counsellor", "new": "supervisor"}
    assert event.reason == "Team lead from May"
    assert not audited(actions.STAFF_LINES_CHANGED)


def test_a_lines_change_of_another_user_is_audited_with_old_and_new_lines(admin_client, counsellor):
    second = helpline_ensure(slug="second", name="Second line", languages=["en"])
    demo = Staff.objects.get(user=counsellor).lines.get()
    data = staff_form(counsellor, lines=[str(demo.pk), str(second.pk)], reason="Covers the second line too")
    assert admin_client.post(staff_url(counsellor), data).status_code == 302
    [event] = audited(actions.STAFF_LINES_CHANGED)
    assert event.details == {"old": ["demo"], "new": ["demo", "second"], "added": ["second"], "removed": []}
    assert event.reason == "Covers the second line too"


def test_a_role_change_without_a_reason_is_refused_with_a_clear_error(admin_client, counsellor):
    before = state(counsellor)
    response = admin_client.post(staff_url(counsellor), staff_form(counsellor, role=Role.SUPERVISOR))
    assert response.status_code == 200
    assert "Say why the role or lines change" in response.content.decode()
    assert state(counsellor) == before
    assert not audited(*ROLE_AND_LINE_ACTIONS)


def test_an_administrator_may_change_their_own_capacity(admin_client, admin_user):
    assert admin_client.post(staff_url(admin_user), staff_form(admin_user, capacity="5")).status_code == 302
    assert state(admin_user)[2] == 5
    [event] = audited(actions.STAFF_PROFILE_CHANGED)
    assert event.details == {"capacity": [3, 5]}


# --- lists: bulk actions and in-place edits ---------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/helpline/staff/", "/admin/auth/user/"])
def test_lists_offer_no_delete_and_no_in_place_editing(admin_client, path):
    content = admin_client.get(path).content.decode()
    assert 'value="reset_two_factor"' in content
    assert 'value="delete_selected"' not in content
    assert "form-TOTAL_FORMS" not in content


def test_bulk_delete_and_forged_in_place_edits_change_nothing(admin_client, admin_user, counsellor):
    own, theirs = Staff.objects.get(user=admin_user), Staff.objects.get(user=counsellor)
    before = (state(admin_user), state(counsellor))
    admin_client.post(
        "/admin/helpline/staff/", {"action": "delete_selected", "_selected_action": [own.pk, theirs.pk], "post": "yes"}
    )
    forged = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "form-0-id": str(own.pk),
        "form-0-role": Role.SUPERVISOR,
        "form-1-id": str(theirs.pk),
        "form-1-role": Role.ADMIN,
        "_save": "Save",
    }
    admin_client.post("/admin/helpline/staff/", forged)
    admin_client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [counsellor.pk], "post": "yes"}
    )
    assert (state(admin_user), state(counsellor)) == before
    assert User.objects.filter(pk__in=[admin_user.pk, counsellor.pk]).count() == 2
    assert not audited(*ROLE_AND_LINE_ACTIONS)


@pytest.mark.parametrize("kind", ["staff", "user"])
def test_delete_pages_are_refused(admin_client, counsellor, kind):
    url = staff_url(counsellor, "delete/") if kind == "staff" else f"/admin/auth/user/{counsellor.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Staff.objects.filter(user=counsellor).exists()


# --- the user page -------------------------------------------------------------------------


def user_form(user, **changes):
    """The user page as posted; an unticked box (is_active) is simply not sent."""
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "reason": "",
        "_save": "Save",
    }
    if user.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return data


def test_user_page_cannot_grant_superuser_staff_groups_or_rename(admin_client, counsellor):
    data = user_form(
        counsellor,
        first_name="Amina",
        is_superuser="on",
        is_staff="on",
        username="root",
        groups="1",
        user_permissions="1",
        reason="Her name",
    )
    assert admin_client.post(f"/admin/auth/user/{counsellor.pk}/change/", data).status_code == 302
    counsellor.refresh_from_db()
    assert counsellor.first_name == "Amina"
    assert (counsellor.username, counsellor.is_staff, counsellor.is_superuser) == ("counsellor", False, False)
    [event] = audited(actions.USER_CHANGED)
    assert event.details == {"fields": ["first_name"]} and event.reason == "Her name"


def test_an_administrator_cannot_deactivate_themselves(admin_client, admin_user):
    data = user_form(admin_user)
    data.pop("is_active")
    response = admin_client.post(f"/admin/auth/user/{admin_user.pk}/change/", data)
    assert response.status_code == 200
    assert "You cannot deactivate your own account." in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_deactivating_another_user_is_audited(admin_client, counsellor):
    data = user_form(counsellor, reason="Left the helpline")
    data.pop("is_active")
    assert admin_client.post(f"/admin/auth/user/{counsellor.pk}/change/", data).status_code == 302
    counsellor.refresh_from_db()
    assert not counsellor.is_active
    [event] = audited(actions.USER_CHANGED)
    assert event.details == {"fields": ["is_active"], "is_active": [True, False]}


def test_adding_a_user_leads_to_the_add_staff_member_form(admin_client):
    response = admin_client.get("/admin/auth/user/add/")
    assert response.status_code == 302 and response["Location"] == "/admin/helpline/staff/add/"
    assert admin_client.post("/admin/auth/user/add/", {"username": "sneaky", "password1": PASSWORD}).status_code == 302
    assert not User.objects.filter(username="sneaky").exists()


# --- passwords -----------------------------------------------------------------------------


def test_setting_another_users_password_needs_a_reason_and_is_audited(admin_client, counsellor):
    url = f"/admin/auth/user/{counsellor.pk}/password/"
    page = admin_client.get(url)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    missing = admin_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert missing.status_code == 200 and "This field is required." in missing.content.decode()
    counsellor.refresh_from_db()
    assert counsellor.check_password(PASSWORD)

    response = admin_client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "reason": "Forgot it; called back"}
    )
    assert response.status_code == 302
    counsellor.refresh_from_db()
    assert counsellor.check_password(NEW_PASSWORD)
    [event] = audited(actions.USER_PASSWORD_SET)
    assert (event.actor_username, event.subject_username, event.reason) == (
        "administrator",
        "counsellor",
        "Forgot it; called back",
    )
    assert NEW_PASSWORD not in str(event.details)
    assert not any(NEW_PASSWORD in entry.change_message for entry in LogEntry.objects.all())


def test_mismatched_or_weak_passwords_are_refused_with_clear_errors(admin_client, counsellor):
    url = f"/admin/auth/user/{counsellor.pk}/password/"
    mismatch = admin_client.post(url, {"password1": NEW_PASSWORD, "password2": "something else", "reason": "x"})
    assert "The two passwords differ." in mismatch.content.decode()
    weak = admin_client.post(url, {"password1": "12345678", "password2": "12345678", "reason": "x"})
    assert "This password is too short" in weak.content.decode()
    counsellor.refresh_from_db()
    assert counsellor.check_password(PASSWORD)
    assert not audited(actions.USER_PASSWORD_SET)


def test_an_administrator_cannot_set_their_own_password_without_the_old_one(admin_client, admin_user):
    url = f"/admin/auth/user/{admin_user.pk}/password/"
    response = admin_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "reason": "mine"})
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)
    assert not audited(actions.USER_PASSWORD_SET)


def test_own_password_change_with_the_old_one_is_audited(admin_client, admin_user):
    response = admin_client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password(NEW_PASSWORD)
    [event] = audited(actions.USER_PASSWORD_CHANGED)
    assert event.actor_username == event.subject_username == "administrator"
    # Still logged in: the session follows the new password.
    assert admin_client.get("/admin/").status_code == 200


# --- adding a staff member ---------------------------------------------------------------------


def add_form(demo_line, **changes):
    data = {
        "username": "amina",
        "first_name": "Amina",
        "last_name": "",
        "email": "",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "role": Role.COUNSELLOR,
        "lines": [str(demo_line.pk)],
        "languages": ["en", "sw"],
        "capacity": "2",
        "team": "Evenings",
        "reason": "Starts on Monday",
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_add_staff_member_creates_the_account_and_profile_through_the_audited_service(admin_client, demo_line, client):
    response = admin_client.post("/admin/helpline/staff/add/", add_form(demo_line))
    assert response.status_code == 302, response.content.decode()[:3000]
    staff = Staff.objects.select_related("user").get(user__username="amina")
    assert (staff.role, staff.languages, staff.capacity, staff.team) == ("counsellor", ["en", "sw"], 2, "Evenings")
    assert list(staff.lines.values_list("slug", flat=True)) == ["demo"]
    assert staff.user.first_name == "Amina" and not staff.user.is_staff
    assert not SealedTOTPDevice.objects.filter(user=staff.user).exists()
    [event] = [e for e in audited(actions.STAFF_CREATED) if e.subject_username == "amina"]
    assert event.actor_username == "administrator" and event.reason == "Starts on Monday"
    assert NEW_PASSWORD not in str(event.details)
    follow = admin_client.get(response["Location"])
    assert "set up two-factor authentication at their first login" in follow.content.decode()


def test_the_new_staff_member_enrols_two_factor_at_first_login(admin_client, demo_line):
    from django.test import Client

    admin_client.post("/admin/helpline/staff/add/", add_form(demo_line))
    newcomer = Client()
    response = newcomer.post("/login/", {"username": "amina", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert newcomer.get("/console/")["Location"].startswith("/2fa/")
    assert newcomer.get("/2fa/", follow=True).request["PATH_INFO"] == "/2fa/enrol/"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password2": "not the same"}, "The two passwords differ."),
        ({"password1": "amina", "password2": "amina"}, "This password is too short"),
        ({"username": "Counsellor"}, "A user with this name already exists."),
        ({"username": "two words"}, "Enter a valid username"),
        ({"role": "king"}, "Select a valid choice"),
        ({"capacity": "0"}, "Ensure this value is greater than or equal to 1"),
        ({"lines": ["999999"]}, "Select a valid choice"),
    ],
)
def test_add_staff_member_refuses_bad_input_with_a_clear_error(admin_client, demo_line, counsellor, changes, message):
    before = User.objects.count()
    response = admin_client.post("/admin/helpline/staff/add/", add_form(demo_line, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == before
    # What was typed is still there (except the passwords).
    assert 'value="Evenings"' in response.content.decode()


def test_only_verified_administrators_reach_the_add_staff_member_form(client, supervisor, demo_line):
    login_verified(client, supervisor)
    response = client.post("/admin/helpline/staff/add/", add_form(demo_line, role=Role.ADMIN))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not User.objects.filter(username="amina").exists()
