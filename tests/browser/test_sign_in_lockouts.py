"""A counsellor locked out mid-shift is let in again by their supervisor, on a phone and a desktop."""

from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from helpline.audit.models import AuditEvent
from helpline.login_throttle import login_name_digest
from tests.conftest import PASSWORD, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test"


def sign_in(page, base_url, user, password=PASSWORD):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1366, "height": 900}])
def test_a_supervisor_unlocks_a_locked_out_counsellor(browser, live_server_url, counsellor, supervisor, viewport):
    # Earlier this shift: five wrong passwords from the counsellor's own workstation.
    AccessAttempt.objects.create(
        username=login_name_digest("counsellor"),
        ip_address="127.0.0.1",
        user_agent="earlier",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/login/",
    )
    problems: list[str] = []
    contexts = []
    try:
        pages = []
        for _ in range(2):
            context = browser.new_context(viewport=viewport)
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.on("console", lambda msg: problems.append(msg.text) if "Content Security" in msg.text else None)
            pages.append(page)
        counsellor_page, supervisor_page = pages

        sign_in(counsellor_page, live_server_url, counsellor)
        expect(counsellor_page.get_by_role("heading", name="Too many failed attempts")).to_be_visible()
        assert "ask your supervisor" in counsellor_page.get_by_role("alert").inner_text()

        sign_in(supervisor_page, live_server_url, supervisor)
        supervisor_page.get_by_label("Code from your authenticator app, or a backup code").fill(totp_now(supervisor))
        supervisor_page.get_by_role("button", name="Verify").click()
        supervisor_page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign-in lockouts").click()
        row = supervisor_page.locator("li.sign-in-item", has_text="counsellor")
        expect(row).to_contain_text("Locked from 127.0.0.1 after 5 failed sign-ins")
        assert no_horizontal_scroll(supervisor_page)
        width = viewport["width"]
        supervisor_page.screenshot(path=str(SCREENSHOTS / f"sign-in-lockouts-{width}.png"), full_page=True)
        row.get_by_label("Why").fill("Phoned me from the office, mistyped her password")
        row.get_by_role("button", name="Unlock sign-in").click()
        expect(supervisor_page.get_by_role("status")).to_contain_text("can sign in again")

        sign_in(counsellor_page, live_server_url, counsellor)
        counsellor_page.get_by_label("Code from your authenticator app, or a backup code").fill(totp_now(counsellor))
        counsellor_page.get_by_role("button", name="Verify").click()
        counsellor_page.wait_for_url("**/console/")
        assert AuditEvent.objects.filter(action="login.unlocked", subject_username="counsellor").count() == 1
        assert problems == []
    finally:
        for context in contexts:
            context.close()
