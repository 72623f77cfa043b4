"""Every page of every role, in the states that matter, at phone and desktop width.

Each ``visit``/``checked`` runs axe at both widths (tests/browser/checks.py): no serious or
critical violation, no CSP error, no uncaught script error.
"""

import pytest
from playwright.sync_api import expect

from helpline.models import Presence
from helpline.services.inbound import message_receive
from helpline.services.queue import contact_accept, presence_set
from helpline.webchat.services import webchat_endpoint_ensure
from tests.browser.checks import PHONE, checked, visit
from tests.browser.conftest import in_worker_thread, log_in
from tests.conftest import PASSWORD, login_failures_age, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chat_endpoint(demo_line):
    return webchat_endpoint_ensure(line=demo_line)


def children_write(endpoint, counsellor):
    """One child held by the counsellor, one waiting."""

    def work():
        staff = counsellor.staff
        presence_set(staff=staff, presence=Presence.AVAILABLE)
        held = message_receive(endpoint=endpoint, sender="a" * 32, body="I am scared", language="en").contact
        contact_accept(staff=staff, contact_id=held.pk)
        message_receive(endpoint=endpoint, sender="b" * 32, body="is anyone there", language="en")
        return held

    return in_worker_thread(work)


def test_login_and_second_factor_pages(page, live_server_url, demo_line):
    make_staff("newcounsellor", "counsellor", line=demo_line, enrolled=False)
    visit(page, f"{live_server_url}/login/")
    page.get_by_label("Username").fill("newcounsellor")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Continue").click()
    checked(page)  # the form with its error
    login_failures_age()  # the wait a failure imposes (helpline.login_throttle) has passed
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/2fa/enrol/")
    checked(page)
    page.get_by_label("Code shown by the app").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    checked(page)  # the enrolment form with its error


def test_verify_page_with_an_error(page, live_server_url, supervisor):
    page.goto(f"{live_server_url}/login/")
    page.get_by_label("Username").fill(supervisor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/2fa/verify/")
    checked(page)
    page.get_by_label("Code from your authenticator app, or a backup code").fill("123456")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_be_visible()
    checked(page)


def referral_sent_to_police(counsellor, supervisor, demo_line):
    """The counsellor's case referred to the police, and one of its officers (helpline.todo's questions)."""

    def work():
        from tests.referrals.world import agency_user, referral_sent, referral_world

        _case, plan = referral_world(counsellor, demo_line)
        sent = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
        return sent, agency_user("officer_a", sent.agency)

    return in_worker_thread(work)


def agency_asks(sent, officer, text="Is the child still at the address in Kibera?"):
    from referrals.services.agency_side import referral_question_ask

    return in_worker_thread(lambda: referral_question_ask(agency=sent.agency, actor=officer, referral=sent, text=text))


def test_counsellor_pages(page, live_server_url, chat_endpoint, counsellor, supervisor, demo_line):
    held = children_write(chat_endpoint, counsellor)
    sent, officer = referral_sent_to_police(counsellor, supervisor, demo_line)
    log_in(page, live_server_url, counsellor, "/console/")
    expect(page.locator("#queue .queue-item")).to_have_count(1)
    checked(page)  # queue and own conversations
    # An agency asks while the console is open: "Waiting for you" shows it at once (the socket says so).
    expect(page.locator("#console-connection")).to_have_attribute("data-state", "live")
    agency_asks(sent, officer)
    todo = page.locator("#todo")
    expect(todo.locator(".todo-item")).to_have_count(1)
    checked(page)  # the console with a waiting question
    todo.get_by_role("link", name="Read and answer").click()
    expect(todo.locator(".question-text")).to_contain_text("Kibera")
    checked(page)  # the question and its answer form, inline
    todo.get_by_label("Your answer").fill("Yes, with her aunt")
    todo.get_by_role("button", name="Send the answer").click()
    expect(todo.get_by_role("status")).to_contain_text("Your answer is on the referral")
    expect(todo.locator(".todo-item")).to_have_count(0)
    checked(page)
    page.locator("#mine a[data-opens-pane]").click()
    expect(page.locator("#pane .msg-in")).to_have_count(1)
    checked(page)  # the conversation pane
    visit(page, f"{live_server_url}/console/c/{held.pk}/")  # the pane as a page of its own
    visit(page, f"{live_server_url}/2fa/backup-codes/")
    page.get_by_role("button", name="Make new backup codes").click()
    checked(page)  # the new codes


def test_supervisor_pages(page, live_server_url, chat_endpoint, counsellor, supervisor, demo_line):
    held = children_write(chat_endpoint, counsellor)
    sent, officer = referral_sent_to_police(counsellor, supervisor, demo_line)
    agency_asks(sent, officer)
    log_in(page, live_server_url, supervisor, "/supervisor/")
    expect(page.locator("#sup-board .queue-item")).to_have_count(1)
    expect(page.locator("#sup-todo .todo-item")).to_contain_text(counsellor.username)
    checked(page)  # board, live conversations, team, the team's waiting questions
    page.locator("#sup-live .live-item").get_by_role("link", name="Read along").click()
    expect(page.locator("#read-along .msg-in")).to_have_count(1)
    checked(page)
    visit(page, f"{live_server_url}/supervisor/c/{held.pk}/")
    visit(page, f"{live_server_url}/console/")
    visit(page, f"{live_server_url}/supervisor/sign-ins/")


def test_authority_and_roleless_pages(browser, live_server_url, authority, outsider):
    page = browser.new_context().new_page()
    log_in(page, live_server_url, authority)
    visit(page, f"{live_server_url}/authority/")  # no agency yet
    other = browser.new_context().new_page()
    log_in(other, live_server_url, outsider)
    visit(other, f"{live_server_url}/")  # "no role yet"


def test_agency_portal_pages(browser, live_server_url, authority, counsellor, supervisor, demo_line):
    from referrals.services import referral_question_ask
    from referrals.services.agencies import agency_membership_set
    from tests.referrals.world import referral_sent, referral_world

    def build():
        _case, plan = referral_world(counsellor, demo_line)
        sent = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
        agency_membership_set(actor=None, user=authority, agency=sent.agency)
        referral_question_ask(actor=counsellor, referral=sent, text="Has an officer met her yet?")
        return sent

    sent = in_worker_thread(build)
    page = browser.new_context(viewport=PHONE).new_page()
    log_in(page, live_server_url, authority)
    visit(page, f"{live_server_url}/authority/")  # the inbox, open referrals
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # stacked, no sideways scroll
    page.locator('.inbox-tabs a[data-view="all"]').click()
    expect(page.locator('.inbox-tabs a[data-view="all"]')).to_have_attribute("aria-current", "page")
    checked(page)  # swapped by htmx
    visit(page, f"{live_server_url}/authority/?show=closed")  # empty
    visit(page, f"{live_server_url}/authority/referrals/{sent.pk}/")  # shared fields, steps, questions
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#decline-reason").fill(" ")  # passes the browser's own check, not the service's
    page.get_by_role("button", name="Decline referral").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why the referral is declined.")
    checked(page)  # the page with the error beside its form
    page.get_by_role("button", name="Acknowledge referral").click()
    expect(page.locator(".referral-status")).to_have_text("Acknowledged")
    checked(page)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_web_chat_pages(page, live_server_url, chat_endpoint, language):
    visit(page, f"{live_server_url}/chat/demo/?lang={language}")  # the pre-chat form
    page.locator("#prechat input[type=radio]").first.check()
    page.locator("#prechat button[type=submit]").click()
    expect(page.locator("#conversation")).to_be_visible()
    page.locator("#conversation textarea").fill("hello")
    page.locator("#conversation button[type=submit]").click()
    expect(page.locator(".msg.in .state")).to_have_count(1)
    checked(page)  # the conversation


def test_closed_web_chat_page(page, live_server_url, chat_endpoint, demo_line):
    demo_line.opening_hours = {"mon": []}
    demo_line.out_of_hours_message = "We open at 8 tomorrow."
    demo_line.save()
    visit(page, f"{live_server_url}/chat/demo/")
