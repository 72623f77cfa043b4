"""A child in the web chat, a counsellor in the console, a transfer to a supervisor: live, both ways.

Two browser contexts (the child on a phone, the counsellor on a phone-sized
console too) and a third for the supervisor. Outbound delivery runs the way the
task worker runs it, on a thread of its own, for each queued message.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from helpline.models import Contact, ContactNote, Message
from helpline.services.outbound import message_deliver_attempt
from helpline.webchat.services import webchat_endpoint_ensure
from tests.browser.checks import DESKTOP, PHONE, checked
from tests.browser.conftest import in_worker_thread
from tests.browser.conftest import log_in as log_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test"


def deliver_queued() -> list[str]:
    def work():
        queued = Message.objects.filter(direction="out", status="queued").order_by("created_at")
        return [message_deliver_attempt(message_id=str(pk)) for pk in queued.values_list("pk", flat=True)]

    return in_worker_thread(work)


def open_page(browser, viewport):
    """A page in a context of its own (closed, and its pages checked, at the end of the test)."""
    return browser.new_context(viewport=viewport).new_page()


def log_in(page, base_url, user, landing):
    log_in_as(page, base_url, user, landing)
    page.wait_for_url(f"**{landing}")
    expect(page.locator("[data-console]")).to_have_attribute("data-socket-state", "live")


def test_child_counsellor_and_supervisor_talk_through_a_transfer(browser, live_server_url, counsellor, supervisor):
    webchat_endpoint_ensure(line=counsellor.staff.lines.get())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    child = open_page(browser, PHONE)
    console = open_page(browser, PHONE)
    sup = open_page(browser, DESKTOP)

    log_in(console, live_server_url, counsellor, "/console/")
    log_in(sup, live_server_url, supervisor, "/console/")
    console.get_by_role("button", name="Available").click()
    expect(console.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")

    # The child starts a chat; the counsellor's queue shows them without a reload.
    child.goto(f"{live_server_url}/chat/demo/")
    child.get_by_label("13–15").check()
    child.get_by_role("button", name="Start chat").click()
    child.get_by_label("Your message").fill("Someone online wants my photos")
    child.get_by_role("button", name="Send").click()
    row = console.locator("#queue .queue-item")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("age 13-15")
    expect(row).not_to_contain_text("photos")  # no content in the queue

    # The counsellor takes them and answers.
    row.get_by_role("button", name="Take this one").click()
    pane = console.locator("#pane")
    expect(pane.locator(".msg-in .msg-body")).to_have_text(["Someone online wants my photos"])
    expect(console.locator("#queue .queue-item")).to_have_count(0)
    box = console.get_by_label("Your reply")
    box.fill("I'm here. You did well to write.")
    expect(console.locator("#draft-status")).to_have_text("Draft saved.")  # kept server-side
    console.get_by_role("button", name="Send", exact=True).click()
    expect(box).to_have_value("")
    expect(child.locator(".msg.out .text")).to_have_text(["I'm here. You did well to write."])
    expect(pane.locator(".msg-out .msg-status")).to_have_text(["Delivered"])
    assert deliver_queued() == []  # sent straight after commit: the worker's task finds nothing left

    # The child writes again: it appears in the open pane, live.
    child.get_by_label("Your message").fill("He says he will share them")
    child.get_by_role("button", name="Send").click()
    expect(pane.locator(".msg-in .msg-body")).to_have_count(2)
    checked(console)  # the pane with a conversation in it
    console.screenshot(path=str(SCREENSHOTS / "console-phone.png"), full_page=True)

    # Transfer to the supervisor with a private note.
    console.get_by_text("Transfer to a colleague").click()
    console.get_by_label("Transfer to").select_option(label="supervisor — Supervisor, Offline")
    console.get_by_label("Handover note (only they see it)").fill("Sextortion risk, please take over")
    console.get_by_role("button", name="Transfer", exact=True).click()
    expect(pane).to_contain_text("The conversation is now with supervisor.")
    expect(console.locator("#mine")).to_contain_text("You have no conversations.")

    # The supervisor's console picks it up live, with the note, and they reply.
    link = sup.locator("#mine a[data-opens-pane]")
    expect(link).to_have_count(1)
    link.click()
    sup_pane = sup.locator("#pane")
    expect(sup_pane.locator(".handover")).to_contain_text("Sextortion risk, please take over")
    expect(sup_pane.locator(".msg-in .msg-body")).to_have_count(2)
    sup.get_by_label("Your reply").fill("Hello, I'm another counsellor here. Let's stop him together.")
    sup.get_by_role("button", name="Send", exact=True).click()
    expect(sup.get_by_label("Your reply")).to_have_value("")
    expect(sup_pane.locator(".msg-out .msg-status").last).to_have_text("Delivered")
    assert deliver_queued() == []  # sent straight after commit
    sup.screenshot(path=str(SCREENSHOTS / "console-supervisor-desktop.png"), full_page=True)

    # The child saw no interruption: their two messages and two replies, nothing about a transfer.
    expect(child.locator(".msg.out .text")).to_have_text(
        ["I'm here. You did well to write.", "Hello, I'm another counsellor here. Let's stop him together."]
    )
    expect(child.locator(".msg")).to_have_count(4)
    expect(child.locator("#notice")).to_have_text("You are chatting with a counsellor.")
    assert "transfer" not in child.locator("body").inner_text().lower()
    assert "supervisor" not in child.locator("body").inner_text().lower()

    contact = Contact.objects.get()
    assert contact.counsellor.user == supervisor and contact.status == "active"
    assert ContactNote.objects.filter(contact=contact, recipient__user=supervisor).count() == 1
    assert Message.objects.filter(contact=contact, automatic=True).count() == 0


def test_supervisor_sees_the_line_and_reads_along(browser, live_server_url, counsellor, supervisor):
    webchat_endpoint_ensure(line=counsellor.staff.lines.get())
    child = open_page(browser, PHONE)
    console = open_page(browser, DESKTOP)
    sup = open_page(browser, DESKTOP)
    log_in(sup, live_server_url, supervisor, "/supervisor/")
    log_in(console, live_server_url, counsellor, "/console/")
    console.get_by_role("button", name="Available").click()

    child.goto(f"{live_server_url}/chat/demo/")
    child.get_by_label("16–17").check()
    child.get_by_role("button", name="Start chat").click()
    child.get_by_label("Your message").fill("I need to talk")
    child.get_by_role("button", name="Send").click()

    # The supervisor's board shows the waiting child; the team shows the counsellor available.
    expect(sup.locator("#sup-board .queue-item")).to_have_count(1)
    expect(sup.locator(f'#sup-team tr[data-staff-id="{counsellor.staff.pk}"]')).to_contain_text("Available")

    console.locator("#queue").get_by_role("button", name="Take next").click()
    expect(console.locator("#pane .msg-in")).to_have_count(1)
    expect(sup.locator("#sup-board .queue-item")).to_have_count(0)
    live_row = sup.locator("#sup-live .live-item")
    expect(live_row).to_contain_text("counsellor")

    # Read along: the pane fills, and the next message of the child arrives in it live.
    live_row.get_by_role("link", name="Read along").click()
    expect(sup.locator("#read-along .msg-in .msg-body")).to_have_text(["I need to talk"])
    expect(sup.locator("#read-along textarea")).to_have_count(0)
    checked(sup)
    child.get_by_label("Your message").fill("Are you still there?")
    child.get_by_role("button", name="Send").click()
    expect(sup.locator("#read-along .msg-in .msg-body")).to_have_count(2)
    expect(console.locator("#pane .msg-in .msg-body")).to_have_count(2)
    expect(console.locator("#pane")).not_to_contain_text("Reading along")
    sup.screenshot(path=str(SCREENSHOTS / "supervision-desktop.png"), full_page=True)

    # Setting the counsellor away shows on their own console.
    sup.locator(f'#sup-team tr[data-staff-id="{counsellor.staff.pk}"]').get_by_role("button").click()
    expect(console.get_by_role("button", name="Away")).to_have_attribute("aria-pressed", "true")
