"""A new counsellor logs in, enrols an authenticator by reading the secret from the page, and reaches the console."""

from base64 import b32decode

import pytest
from django_otp.oath import totp

from tests.conftest import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_for(secret_text: str) -> str:
    return f"{totp(b32decode(secret_text.replace(' ', ''))):06d}"


def test_first_login_enrols_totp_and_reaches_the_console(page, live_server_url, demo_line):
    make_staff("newcounsellor", "counsellor", line=demo_line, enrolled=False)

    page.goto(f"{live_server_url}/console/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill("newcounsellor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/2fa/enrol/")
    assert page.locator(".qr svg").is_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code shown by the app").fill(code_for(secret))
    page.get_by_role("button", name="Confirm").click()

    codes = page.locator("#backup-codes li")
    assert codes.count() == 10
    page.get_by_role("link", name="I have saved them, continue").click()

    page.wait_for_url("**/console/")
    assert page.get_by_role("heading", name="Counsellor console").is_visible()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Console").is_visible()
    page.screenshot(path="var/test/console.png", full_page=True)


def test_password_alone_leaves_the_browser_on_the_code_page(page, live_server_url, demo_line):
    make_staff("enrolled", "supervisor", line=demo_line, enrolled=True)
    page.goto(f"{live_server_url}/login/")
    page.get_by_label("Username").fill("enrolled")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/2fa/verify/")
    page.goto(f"{live_server_url}/supervisor/")
    assert page.url.endswith("/2fa/verify/")
    page.get_by_label("Code from your authenticator app, or a backup code").fill("123456")
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_role("alert").inner_text().startswith("That code is not valid")
