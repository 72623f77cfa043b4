"""Two-factor authentication is mandatory for every role, on every kind of page."""

import time

import pytest

from helpline.models import BackupCode, SealedTOTPDevice
from tests.conftest import PASSWORD, login_verified, make_staff, totp_code, totp_now

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/", "/console/", "/supervisor/", "/authority/", "/admin/", "/admin/auth/user/", "/2fa/backup-codes/"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_visitor_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.urls("tests.testapp.urls")
def test_api_calls_answer_in_json_and_need_the_second_factor_too(client, counsellor):
    assert client.get("/api/ping/").status_code == 401
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    response = client.get("/api/ping/")
    assert response.status_code == 403 and response.json()["detail"] == "Two-factor verification required."
    client.post("/2fa/verify/", {"token": totp_now(counsellor)})
    assert client.get("/api/ping/").json() == {"user": "counsellor"}


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_password_alone_reaches_no_staff_page(client, supervisor, path):
    client.post("/login/", {"username": "supervisor", "password": PASSWORD})
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] in ("/2fa/", "/login/?next=" + path)


def test_password_alone_is_refused_by_admin_even_for_an_admin(client, admin_user):
    client.post("/login/", {"username": admin_user.username, "password": PASSWORD})
    response = client.get("/admin/auth/user/", follow=True)
    assert b"Enter your code" in response.content


def test_wrong_password_stays_on_login(client, counsellor):
    response = client.post("/login/", {"username": "counsellor", "password": "wrong password"})
    assert response.status_code == 200
    assert client.get("/console/").status_code == 302


@pytest.mark.parametrize(
    ("fixture", "home"),
    [
        ("counsellor", "/console/"),
        ("supervisor", "/supervisor/"),
        ("authority", "/authority/"),
        ("admin_user", "/admin/"),
    ],
)
def test_verified_user_reaches_their_role_home(request, client, fixture, home):
    user = request.getfixturevalue(fixture)
    login_verified(client, user)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == home
    assert client.get(home).status_code == 200


def test_roles_cannot_open_each_others_pages(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/supervisor/").status_code == 403
    assert client.get("/authority/").status_code == 403
    # The admin answers with its login page, which is no way in either.
    assert client.get("/admin/auth/user/").status_code == 302


def test_user_without_role_gets_a_clear_page(client, outsider):
    login_verified(client, outsider)
    response = client.get("/")
    assert response.status_code == 403
    assert b"No role yet" in response.content


def test_first_login_enrols_a_device_and_shows_ten_backup_codes(client, demo_line):
    user = make_staff("newcomer", "counsellor", line=demo_line, enrolled=False)
    response = client.post("/login/", {"username": "newcomer", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/2fa/enrol/"
    assert b"<svg" in response.content  # QR code rendered locally
    device = SealedTOTPDevice.objects.select_related("data_key").get(user=user, confirmed=False)
    secret = response.context["secret"].replace(" ", "")
    from base64 import b32decode

    assert b32decode(secret) == device.bin_key

    assert client.post("/2fa/enrol/", {"token": "000000"}).status_code == 200
    time.sleep(1.1)  # django-otp makes a wrong code cost a second before the next try
    response = client.post("/2fa/enrol/", {"token": totp_code(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/console/").status_code == 200


def test_password_alone_cannot_enrol_a_second_device(client, counsellor):
    """An attacker who knows only the password must not add their own authenticator."""
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    response = client.get("/2fa/enrol/")
    assert response.status_code == 302 and response["Location"] == "/2fa/verify/"
    assert SealedTOTPDevice.objects.filter(user=counsellor).count() == 1


def test_backup_code_works_once(client, counsellor):
    from helpline.services.twofactor import backup_codes_issue

    code = backup_codes_issue(user=counsellor)[0]
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    assert client.post("/2fa/verify/", {"token": code}).status_code == 302
    assert client.get("/console/").status_code == 200
    assert BackupCode.objects.filter(device__user=counsellor).count() == 9

    client.post("/logout/")
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    response = client.post("/2fa/verify/", {"token": code})
    assert response.status_code == 200
    assert b"not valid" in response.content
    assert client.get("/console/").status_code == 302


def test_totp_code_cannot_be_guessed_repeatedly(client, counsellor):
    """django-otp throttles wrong codes: after a few, even the right one is refused for a while."""
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    for guess in ("111111", "222222", "333333"):
        client.post("/2fa/verify/", {"token": guess})
    response = client.post("/2fa/verify/", {"token": totp_now(counsellor)})
    assert response.status_code == 200
    assert client.get("/console/").status_code == 302


def test_regenerating_backup_codes_cancels_old_ones(client, counsellor):
    from helpline.services.twofactor import backup_codes_issue

    old = backup_codes_issue(user=counsellor)
    login_verified(client, counsellor)
    response = client.post("/2fa/backup-codes/")
    new = response.context["codes"]
    assert len(new) == 10
    client.post("/logout/")
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    assert b"not valid" in client.post("/2fa/verify/", {"token": old[0]}).content
    time.sleep(1.1)  # the refused code costs a second before the next try
    assert client.post("/2fa/verify/", {"token": new[0]}).status_code == 302


def test_after_verification_user_returns_to_the_page_they_asked_for(client, supervisor):
    client.post("/login/?next=/console/", {"username": "supervisor", "password": PASSWORD, "next": "/console/"})
    response = client.post("/2fa/verify/", {"token": totp_now(supervisor)})
    assert response["Location"] == "/console/"


def test_next_cannot_send_the_user_to_another_site(client, supervisor):
    client.post("/login/", {"username": "supervisor", "password": PASSWORD, "next": "https://evil.example/"})
    response = client.post("/2fa/verify/", {"token": totp_now(supervisor)})
    assert response["Location"] == "/"


def test_reset_removes_devices_and_forces_enrolment(client, counsellor, admin_user):
    from helpline.services.twofactor import twofactor_reset

    twofactor_reset(actor=admin_user, user=counsellor)
    response = client.post("/login/", {"username": "counsellor", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/2fa/enrol/"


def test_logout_needs_post_and_ends_the_session(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/logout/").status_code == 405
    client.post("/logout/")
    assert client.get("/console/").status_code == 302


def test_a_second_password_only_session_never_sees_the_secret_being_enrolled(client, demo_line):
    """Someone who knows only the password opens enrolment too: they get a secret of their own,
    which the real user's enrolment replaces, so they learn nothing that will ever be accepted."""
    from django.test import Client

    make_staff("newcomer", "counsellor", line=demo_line, enrolled=False)
    attacker = Client()
    attacker.post("/login/", {"username": "newcomer", "password": PASSWORD})
    attacker_secret = attacker.get("/2fa/enrol/").context["secret"]

    client.post("/login/", {"username": "newcomer", "password": PASSWORD})
    owner_page = client.get("/2fa/enrol/")
    assert owner_page.context["secret"] != attacker_secret
    assert client.get("/2fa/enrol/").context["secret"] == owner_page.context["secret"]  # stable for its session

    device = SealedTOTPDevice.objects.select_related("data_key").get(user__username="newcomer", confirmed=False)
    response = client.post("/2fa/enrol/", {"token": totp_code(device)})
    assert len(response.context["codes"]) == 10

    # The attacker's secret opens nothing.
    from base64 import b32decode

    from django_otp.oath import totp

    guess = f"{totp(b32decode(attacker_secret.replace(' ', ''))):06d}"
    assert attacker.post("/2fa/verify/", {"token": guess}).status_code == 200
    assert attacker.get("/console/").status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        "/admin/helpline/sealedtotpdevice/",
        "/admin/helpline/backupcodedevice/",
        "/admin/helpline/hashedsession/",
        "/admin/axes/accessattempt/",
        "/admin/axes/accesslog/",
    ],
)
def test_administrators_cannot_read_or_add_anyones_authenticator(client, admin_user, counsellor, path):
    login_verified(client, admin_user)
    assert client.get(path).status_code == 404
    assert client.get(path + "add/").status_code == 404
