"""A supervisor blocks an abusive sender from the read-along pane and lifts the block from the list,
in a real browser on a phone; every page is checked at both widths (tests/browser/checks.py)."""

import pytest
from playwright.sync_api import expect

from helpline.models import BlockedSender
from tests.browser.checks import checked
from tests.browser.conftest import log_in
from tests.browser.test_every_page import children_write
from tests.helpline.console.conftest import sender_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chat_endpoint(demo_line):
    from helpline.webchat.services import webchat_endpoint_ensure

    return webchat_endpoint_ensure(line=demo_line)


def test_a_supervisor_blocks_and_unblocks_a_sender(page, live_server_url, chat_endpoint, counsellor, supervisor):
    held = children_write(chat_endpoint, counsellor)
    log_in(page, live_server_url, supervisor, f"/supervisor/c/{held.pk}/")
    page.get_by_role("link", name="Block this sender…").click()
    page.wait_for_url(f"**/supervisor/c/{held.pk}/block/")
    checked(page)
    assert sender_of(held) not in page.content()
    page.get_by_role("button", name="Block sender").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()  # no reason given
    checked(page)
    page.get_by_label("Why is this sender blocked?").fill("Threatens the counsellor")
    page.get_by_label("30 days").check()
    page.get_by_role("button", name="Block sender").click()
    page.wait_for_url("**/supervisor/blocks/")
    expect(page.get_by_text("Threatens the counsellor")).to_be_visible()
    checked(page)
    assert BlockedSender.objects.filter(line=held.line).count() == 1
    page.get_by_label("Why lift it? (optional)").fill("Spoke with them")
    page.get_by_role("button", name="Lift block").click()
    expect(page.get_by_text("No sender is blocked on your lines.")).to_be_visible()
    checked(page)
    assert not BlockedSender.objects.exists()
