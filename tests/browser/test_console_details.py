"""Small things that decide whether a console can be trusted: badges that are hidden stay hidden,
a backup code can be typed on a phone, hints only where they make sense. Both widths each."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from helpline.models import Contact
from helpline.services.inbound import message_receive
from helpline.services.twofactor import backup_codes_issue
from helpline.webchat.services import webchat_endpoint_ensure
from tests.browser.checks import DESKTOP, PHONE, WIDTHS, checked
from tests.browser.conftest import in_worker_thread, log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chat_endpoint(demo_line):
    return webchat_endpoint_ensure(line=demo_line)


def child_writes(endpoint, sender, body="is anyone there"):
    return in_worker_thread(lambda: message_receive(endpoint=endpoint, sender=sender, body=body, language="en").contact)


@pytest.mark.parametrize("viewport", WIDTHS, ids=["phone", "desktop"])
def test_waiting_too_long_badge_shows_only_when_true(browser, live_server_url, chat_endpoint, supervisor, viewport):
    fresh = child_writes(chat_endpoint, "a" * 32)
    old = child_writes(chat_endpoint, "b" * 32)
    Contact.objects.filter(pk=old.pk).update(arrived_at=timezone.now() - timedelta(minutes=10))
    page = browser.new_context(viewport=viewport).new_page()
    log_in(page, live_server_url, supervisor, "/supervisor/")
    fresh_badge = page.locator(f'#sup-board [data-contact-id="{fresh.pk}"] [data-overdue-flag]')
    old_badge = page.locator(f'#sup-board [data-contact-id="{old.pk}"] [data-overdue-flag]')
    expect(old_badge).to_be_visible()
    expect(fresh_badge).to_be_hidden()  # the [hidden] rule beats .flag's display
    checked(page)


@pytest.mark.parametrize("viewport", WIDTHS, ids=["phone", "desktop"])
def test_a_backup_code_can_be_typed_on_a_phone(browser, live_server_url, counsellor, viewport):
    code = backup_codes_issue(user=counsellor)[0]
    context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE, has_touch=viewport == PHONE)
    page = context.new_page()
    page.goto(f"{live_server_url}/login/")
    page.get_by_label("Username").fill(counsellor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    field = page.get_by_label("Code from your authenticator app, or a backup code")
    assert field.get_attribute("inputmode") is None
    field.press_sequentially(code)  # letters and digits, key by key as on a phone keyboard
    expect(field).to_have_value(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server_url}/console/")
    checked(page)


def test_esc_hint_only_where_there_is_a_keyboard(browser, live_server_url, chat_endpoint):
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{live_server_url}/chat/demo/")
    expect(phone.locator(".exit-hint")).to_be_visible()
    expect(phone.get_by_text("Or press Esc twice.")).to_be_hidden()
    checked(phone)
    desktop = browser.new_context(viewport=DESKTOP).new_page()
    desktop.goto(f"{live_server_url}/chat/demo/")
    expect(desktop.get_by_text("Or press Esc twice.")).to_be_visible()
    checked(desktop)


@pytest.mark.parametrize("viewport", WIDTHS, ids=["phone", "desktop"])
def test_focus_ring_is_visible_against_its_background(browser, live_server_url, counsellor, viewport):
    page = browser.new_context(viewport=viewport).new_page()
    log_in(page, live_server_url, counsellor, "/console/")
    button = page.get_by_role("button", name="Available")
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
    ring = button.evaluate(
        "element => { const s = getComputedStyle(element); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert ring == ["solid", "3px", "rgb(27, 31, 36)"]  # --focus on the white card: 16:1
    checked(page)


def test_chat_header_shows_the_neutral_name_and_the_emergency_number(browser, live_server_url, chat_endpoint):
    line = chat_endpoint.line
    line.chat_display_name = "Talk"
    line.emergency_number = "112"
    line.save()
    for viewport in WIDTHS:
        page = browser.new_context(viewport=viewport).new_page()
        page.goto(f"{live_server_url}/chat/demo/")
        expect(page.locator(".bar .line-name")).to_have_text("Talk")
        expect(page.locator("#prechat")).to_contain_text("In danger now? Call 112.")
        checked(page)
