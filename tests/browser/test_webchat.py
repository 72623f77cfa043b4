"""A child on a phone: pre-chat, a message, a reply, a reload that keeps the conversation, and a quick exit."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from playwright.sync_api import expect

from helpline.messaging import message_deliver_attempt, message_send
from helpline.models import Contact
from helpline.webchat.services import webchat_endpoint_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEUTRAL = "https://www.google.com/**"


def in_worker_thread(work):
    """Run ``work`` the way the task worker does: on a thread of its own, with its own connection.

    (Playwright's sync API keeps an event loop in the test's thread, where the
    channel layer's async_to_sync cannot run.)
    """

    def run():
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def counsellor_replies(body, counsellor):
    def work():
        contact = Contact.objects.get()
        reply = message_send(contact=contact, body=body, author=counsellor.staff)
        return message_deliver_attempt(message_id=str(reply.pk))

    return in_worker_thread(work)


@pytest.fixture
def chat_url(live_server_url, demo_line):
    webchat_endpoint_ensure(line=demo_line)
    return f"{live_server_url}/chat/demo/"


@pytest.fixture
def csp_violations(page):
    seen = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    return seen


def test_child_chats_resumes_after_reload_and_leaves_without_a_trace(page, chat_url, counsellor, csp_violations):
    page.route(NEUTRAL, lambda route: route.fulfill(body="neutral", content_type="text/html"))
    page.goto(f"{chat_url}?lang=en")  # an earlier visit to the chat, in the history
    page.goto(chat_url)

    page.get_by_label("13–15").check()
    page.get_by_role("button", name="Start chat").click()
    expect(page.locator("#notice")).to_have_text("A counsellor will be with you soon.")
    page.get_by_label("Your message").fill("Someone online wants my photos")
    page.get_by_role("button", name="Send").click()
    mine = page.locator(".msg.in").filter(has_text="Someone online wants my photos")
    expect(mine.locator(".state")).to_have_text("Sent")
    contact = Contact.objects.get()
    assert (contact.status, contact.language, contact.age_band) == ("waiting", "en", "13-15")

    assert counsellor_replies("I'm here. You did well to write.", counsellor) == "delivered"
    theirs = page.locator(".msg.out .text")
    expect(theirs).to_have_text("I'm here. You did well to write.")

    page.reload()
    expect(mine.locator(".state")).to_have_text("Sent")
    expect(theirs).to_have_text("I'm here. You did well to write.")
    expect(page.locator(".msg")).to_have_count(2)
    assert Contact.objects.count() == 1
    page.screenshot(path="var/test-webchat-conversation.png", full_page=True)

    page.get_by_role("button", name="Quick exit").click()
    page.wait_for_url(NEUTRAL)
    assert "neutral" in page.content()

    page.evaluate("history.back()")
    page.wait_for_url(f"{chat_url}?lang=en")
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    expect(page.locator(".msg")).to_have_count(0)
    assert page.locator("#conversation").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    assert csp_violations == []


def test_escape_twice_leaves_the_chat(page, chat_url):
    page.route(NEUTRAL, lambda route: route.fulfill(body="neutral", content_type="text/html"))
    page.goto(f"{chat_url}?lang=fr")
    page.get_by_label("Moins de 10 ans").check()
    page.get_by_role("button", name="Commencer la discussion").click()
    expect(page.locator("#notice")).to_have_text("Quelqu'un de l'équipe d'écoute va bientôt te répondre.")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)
    assert "neutral" in page.content()


def test_resuming_keeps_the_language_chosen_before_the_chat(page, chat_url):
    page.goto(f"{chat_url}?lang=sw")
    page.get_by_label("Sipendi kusema").check()
    page.get_by_role("button", name="Anza gumzo").click()
    page.get_by_label("Ujumbe wako").fill("habari")
    page.get_by_role("button", name="Tuma").click()
    expect(page.locator(".msg.in .state")).to_have_text("Imetumwa")
    page.goto(chat_url)  # the address lost ?lang=
    page.wait_for_url(f"{chat_url}?lang=sw")
    expect(page.locator(".msg.in .text")).to_have_text("habari")
    assert Contact.objects.get().age_band == "undisclosed"


def test_closed_line_shows_help_and_opens_no_socket(page, chat_url, demo_line):
    demo_line.opening_hours = {"mon": []}
    demo_line.out_of_hours_message = "We open at 8 tomorrow."
    demo_line.save()
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto(chat_url)
    expect(page.get_by_text("We open at 8 tomorrow.")).to_be_visible()
    expect(page.get_by_text("If you are in danger now, call your local emergency number.")).to_be_visible()
    assert page.locator("#prechat").is_hidden()
    page.wait_for_timeout(300)
    assert sockets == []


def test_arabic_page_runs_right_to_left(page, chat_url):
    page.goto(f"{chat_url}?lang=ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    exit_box = page.get_by_role("button", name="Quick exit").bounding_box()
    assert exit_box["x"] < 390 / 2  # the exit button sits at the inline end: the left in Arabic
