"""Browser tests: Debian's Chromium driven by Playwright against the real ASGI server (uvicorn)."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.checks import PAGE_TIMEOUT_MS, PHONE, CheckedBrowser

CHROMIUM = "/usr/bin/chromium"
# An expectation's wait includes the checks a locator handler runs meanwhile (axe at both widths, seconds
# on a loaded machine), as a page action's does: the same timeout for both.
expect.set_options(timeout=PAGE_TIMEOUT_MS)
# Playwright's sync API keeps an event loop in this thread; the ORM calls made by
# the test itself (creating users) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def live_server_url(asgi_server):
    return asgi_server["url"]


@pytest.fixture(scope="session")
def browser(live_server_url):
    """Chromium, whose contexts check every page they open (tests/browser/checks.py)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield CheckedBrowser(browser, origin=live_server_url)
        browser.close()


@pytest.fixture(autouse=True)
def page_checks(browser):
    """Every browser test fails on what the page checks found, even in pages it closed itself."""
    yield
    browser.finish_test()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def log_in(page, base_url, user, landing="/"):
    """Log in the way a person does: the password, then a code from the authenticator."""
    from tests.conftest import PASSWORD, totp_now

    page.goto(f"{base_url}{landing}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/2fa/verify/")
    page.get_by_label("Code from your authenticator app, or a backup code").fill(totp_now(user))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(lambda url: "/2fa/" not in url and "/login/" not in url)


def in_worker_thread(work):
    """Run ``work`` on a thread with its own connection, as the task worker does.

    (Playwright's sync API keeps an event loop in the test's thread, where the
    channel layer's async_to_sync cannot run.)
    """

    def run():
        try:
            return work()
        finally:
            from django.db import connection

            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)
