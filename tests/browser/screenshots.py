"""`make screenshots`: every page of every role, at phone and desktop width, into docs/screenshots/.

Not a test (pytest collects it only when named, as the Makefile does): it drives the same Chromium
and ASGI server as the browser tests, on the suite's own test database, with the demo line's
content and a few conversations, and writes one PNG per page and width. Pages come from each
role's navigation (helpline.navigation: a page another app adds appears on its own) plus the
states that matter (a conversation open with a risk flag, the prepared-reply picker, read-along,
the web chat). Screenshots are of the viewport only, at a device scale of 1, to keep them small.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from helpline.demo_content import demo_content_ensure
from helpline.models import Presence
from helpline.services.inbound import message_receive
from helpline.services.queue import contact_accept, presence_set
from helpline.webchat.services import webchat_endpoint_ensure
from tests.browser.checks import DESKTOP, PHONE
from tests.browser.conftest import in_worker_thread, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(os.environ.get("SCREENSHOTS_DIR", Path(__file__).resolve().parents[2] / "docs" / "screenshots"))
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}


def _world(demo_line, counsellor):
    demo_content_ensure(demo_line)
    demo_line.refresh_from_db()  # the service saved its own copy of the line
    endpoint = webchat_endpoint_ensure(line=demo_line)

    def work():
        staff = counsellor.staff
        presence_set(staff=staff, presence=Presence.AVAILABLE)
        held = []
        for index, body in enumerate(
            ["Someone is threatening to share my photos", "I had a fight with my mum", "hello?"]
        ):
            contact = message_receive(endpoint=endpoint, sender=f"s{index:031d}", body=body, language="en").contact
            held.append(contact_accept(staff=staff, contact_id=contact.pk))
        message_receive(endpoint=endpoint, sender="w" * 32, body="is anyone there", language="en")
        return held

    return in_worker_thread(work)


def _context(browser, width):
    # The phone is a phone: touch, no hover (keyboard hints hidden), as a counsellor's would be.
    phone = width == "phone"
    return browser._browser.new_context(viewport=WIDTHS[width], device_scale_factor=1, is_mobile=phone, has_touch=phone)


def _shoot(page, name, width):
    page.wait_for_load_state("load")
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}-{width}.png"), animations="disabled", caret="hide")


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _nav_pages(page, base_url):
    links = page.locator(".topbar nav a")
    return [(links.nth(i).inner_text(), links.nth(i).get_attribute("href")) for i in range(links.count())]


def test_screenshots(browser, live_server_url, demo_line, counsellor, supervisor, admin_user, authority):
    risky, *_ = _world(demo_line, counsellor)
    for width in WIDTHS:
        context = _context(browser, width)
        page = context.new_page()
        page.goto(f"{live_server_url}/login/")
        _shoot(page, "login", width)
        page.goto(f"{live_server_url}/chat/demo/")
        _shoot(page, "webchat-prechat", width)
        context.close()

        for role, user in (("counsellor", counsellor), ("supervisor", supervisor), ("admin", admin_user),
                           ("authority", authority)):  # fmt: skip
            context = _context(browser, width)
            page = context.new_page()
            log_in(page, live_server_url, user)
            for label, href in _nav_pages(page, live_server_url):
                page.goto(f"{live_server_url}{href}")
                _shoot(page, f"{role}-{_slug(label)}", width)
            if role == "counsellor":
                page.goto(f"{live_server_url}/console/c/{risky.pk}/")
                expect(page.locator("#pane .msg-in")).to_have_count(1)
                _shoot(page, "counsellor-conversation-at-risk", width)
                # (A click would race the sticky reply box as Playwright scrolls; the handler is delegated.)
                page.locator("[data-open-picker]").dispatch_event("click")
                expect(page.locator("#canned-picker")).to_be_visible()
                _shoot(page, "counsellor-prepared-replies", width)
            if role == "supervisor":
                page.goto(f"{live_server_url}/supervisor/c/{risky.pk}/")
                _shoot(page, "supervisor-read-along", width)
            if role == "admin":
                page.goto(f"{live_server_url}/admin/helpline/helpline/{demo_line.pk}/change/")
                _shoot(page, "admin-line-form", width)
            context.close()
