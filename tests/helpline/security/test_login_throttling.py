"""Item 2: nobody can lock staff out, and guessing is slowed down.

Failures count per (user name, address) pair, with a wait that doubles after each one and a
lock at the failure limit; an address has its own, higher limit across all names; a
supervisor of the person's line can unlock them, and that is audited.
"""

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import PermissionDenied, ValidationError

from helpline.audit.models import AuditEvent
from helpline.login_throttle import login_name_digest
from helpline.models import LoginUnlock, Staff
from helpline.services.logins import login_unlock
from tests.conftest import PASSWORD, login_failures_age, login_verified

pytestmark = pytest.mark.django_db

A, B = "10.0.0.1", "10.0.0.2"


def fail(client, username, address=A):
    return client.post("/login/", {"username": username, "password": "not it"}, REMOTE_ADDR=address)


def fail_repeatedly(client, username, times, address=A):
    """``times`` real failures, each after the wait the previous one imposed."""
    for _ in range(times):
        assert fail(client, username, address).status_code in (200, 429)
        login_failures_age(60)


def log_in(client, username, address=A):
    return client.post("/login/", {"username": username, "password": PASSWORD}, REMOTE_ADDR=address)


def failures_of(username, address=A) -> int:
    attempts = AccessAttempt.objects.filter(username=login_name_digest(username), ip_address=address)
    return sum(attempts.values_list("failures_since_start", flat=True))


def test_bad_passwords_from_one_address_do_not_lock_the_account_out_from_another(client, counsellor, settings):
    fail_repeatedly(client, "counsellor", settings.AXES_FAILURE_LIMIT, address=A)

    refused = log_in(client, "counsellor", address=A)
    assert refused.status_code == 429 and b"Too many failed attempts" in refused.content
    assert log_in(client, "counsellor", address=B).status_code == 302


def test_failures_on_made_up_names_do_not_lock_a_real_user_out_of_that_address(client, counsellor, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        assert fail(client, f"made-up-{n}").status_code == 200  # a new name waits for nothing

    assert log_in(client, "counsellor").status_code == 302


def test_many_failures_from_one_address_lock_that_address_only(client, counsellor, settings):
    settings.HELPLINE_LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for n in range(12):
        fail(client, f"sprayed-{n}")

    refused = log_in(client, "counsellor")
    assert refused.status_code == 429 and b"from this network" in refused.content
    assert log_in(client, "counsellor", address=B).status_code == 302
    assert failures_of("counsellor") == 0  # refusing is not a failure: the password was not checked


def test_each_failure_makes_the_next_try_wait_longer(client, counsellor, settings):
    waits = []
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert fail(client, "counsellor").status_code == 200
        refused = log_in(client, "counsellor")  # at once, even with the right password
        assert refused.status_code == 429 and b"Wait" in refused.content
        waits.append(int(refused["Retry-After"]))
        login_failures_age(waits[-1])
    assert waits == [settings.HELPLINE_LOGIN_DELAY_SECONDS * 2**n for n in range(settings.AXES_FAILURE_LIMIT - 1)]
    assert failures_of("counsellor") == settings.AXES_FAILURE_LIMIT - 1  # the refused tries did not count
    # Once the wait is over, the right password gets in and clears this pair's failures.
    assert log_in(client, "counsellor").status_code == 302
    assert failures_of("counsellor") == 0


def test_logging_in_to_ones_own_account_does_not_reset_guesses_at_anothers(client, counsellor, supervisor, settings):
    """An insider alternating guesses at a colleague's password with their own login stays throttled."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fail(client, "supervisor")
        assert log_in(client, "counsellor").status_code == 302
        client.post("/logout/")
        login_failures_age(60)
    assert failures_of("supervisor") == settings.AXES_FAILURE_LIMIT
    assert log_in(client, "supervisor").status_code == 429


def test_a_supervisor_unlocks_a_locked_out_counsellor_and_it_is_audited(client, counsellor, supervisor, settings):
    fail_repeatedly(client, "counsellor", settings.AXES_FAILURE_LIMIT)
    assert log_in(client, "counsellor").status_code == 429

    boss = login_verified(type(client)(), supervisor)
    page = boss.get("/supervisor/sign-ins/").content.decode()
    assert "Locked from 10.0.0.1 after 5 failed sign-ins" in page
    staff_id = Staff.objects.get(user=counsellor).pk
    response = boss.post(f"/supervisor/sign-ins/{staff_id}/unlock/", {"reason": "She phoned me from the office"})
    assert response.status_code == 302

    assert login_verified(client, counsellor)  # from the same workstation, mid-shift
    event = AuditEvent.objects.get(action="login.unlocked")
    assert (event.actor_username, event.subject_username) == ("supervisor", "counsellor")
    assert event.reason == "She phoned me from the office"
    assert event.details == {"failures_cleared": settings.AXES_FAILURE_LIMIT}
    assert not LoginUnlock.objects.exists()  # spent by the login


def test_an_unlock_lets_the_counsellor_past_a_locked_address(client, counsellor, supervisor, settings):
    settings.HELPLINE_LOGIN_ADDRESS_FAILURE_LIMIT = 10
    for n in range(10):
        fail(client, f"sprayed-{n}")  # someone on the office network is guessing
    assert log_in(client, "counsellor").status_code == 429

    login_unlock(
        actor=Staff.objects.get(user=supervisor), staff=Staff.objects.get(user=counsellor), reason="Office network"
    )

    assert log_in(client, "counsellor").status_code == 302
    client.post("/logout/")
    assert fail(client, "sprayed-x").status_code == 429  # the address itself stays locked for everyone else
    assert log_in(client, "counsellor").status_code == 429  # and the unlock was for one login


def test_a_supervisor_of_another_line_cannot_unlock(client, counsellor, far_supervisor, settings):
    fail_repeatedly(client, "counsellor", settings.AXES_FAILURE_LIMIT)
    staff_id = Staff.objects.get(user=counsellor).pk
    stranger = login_verified(type(client)(), far_supervisor)

    assert "counsellor" not in stranger.get("/supervisor/sign-ins/").content.decode()
    assert stranger.post(f"/supervisor/sign-ins/{staff_id}/unlock/", {"reason": "let me"}).status_code == 404
    with pytest.raises(PermissionDenied):
        login_unlock(actor=Staff.objects.get(user=far_supervisor), staff=Staff.objects.get(pk=staff_id), reason="x")

    assert log_in(client, "counsellor").status_code == 429
    assert not AuditEvent.objects.filter(action="login.unlocked").exists()
    assert not LoginUnlock.objects.exists()


@pytest.mark.parametrize("role_fixture", ["counsellor", "admin_user", "authority"])
def test_only_supervisors_reach_the_unlock(request, client, role_fixture, supervisor):
    user = request.getfixturevalue(role_fixture)
    login_verified(client, user)
    supervisor_staff = Staff.objects.get(user=supervisor).pk
    assert client.get("/supervisor/sign-ins/").status_code in (302, 403)
    assert client.post(f"/supervisor/sign-ins/{supervisor_staff}/unlock/", {"reason": "x"}).status_code in (302, 403)
    assert not AuditEvent.objects.filter(action="login.unlocked").exists()


def test_an_unlock_needs_a_reason_and_never_for_oneself(client, counsellor, supervisor, settings):
    fail_repeatedly(client, "counsellor", settings.AXES_FAILURE_LIMIT)
    boss = login_verified(type(client)(), supervisor)
    staff_id = Staff.objects.get(user=counsellor).pk

    response = boss.post(f"/supervisor/sign-ins/{staff_id}/unlock/", {"reason": "   "})

    assert response.status_code == 422 and b"Say why" in response.content
    assert failures_of("counsellor") == settings.AXES_FAILURE_LIMIT  # nothing changed
    own = Staff.objects.get(user=supervisor)
    assert boss.post(f"/supervisor/sign-ins/{own.pk}/unlock/", {"reason": "me"}).status_code == 404
    with pytest.raises(PermissionDenied):
        login_unlock(actor=own, staff=own, reason="me")
    with pytest.raises(ValidationError):
        login_unlock(actor=own, staff=Staff.objects.get(pk=staff_id), reason="")
    assert not AuditEvent.objects.filter(action="login.unlocked").exists()
