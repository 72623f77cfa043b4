"""The agency portal in Chromium: an authority user of the Nairobi police signs in with two factors,
acknowledges the referral, asks the helpline a question; the counsellor answers it in the console;
the authority user reads the answer and records a progress update; the case's timeline shows every
step. Every page is checked at phone and desktop width (axe, CSP, script errors)."""

import pytest
from playwright.sync_api import expect

from tests.browser.checks import checked, visit
from tests.browser.conftest import in_worker_thread, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Is the aunt's address in Kibera still right?"
ANSWER = "Yes, she moved back there on Monday"


@pytest.fixture
def sent(counsellor, supervisor, demo_line, authority):
    from referrals.services.agencies import agency_membership_set
    from tests.referrals.world import outcome_kinds_seed, referral_sent, referral_world

    def build():
        outcome_kinds_seed()
        _case, plan = referral_world(counsellor, demo_line)
        referral = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
        agency_membership_set(actor=None, user=authority, agency=referral.agency)
        return referral

    return in_worker_thread(build)


def test_an_agency_works_a_referral_in_the_portal(browser, live_server_url, sent, authority, counsellor):
    officer = browser.new_context().new_page()
    log_in(officer, live_server_url, authority, landing="/authority/")
    checked(officer)  # the inbox
    officer.get_by_role("link", name=sent.case.reference).click()
    officer.wait_for_url(f"**/authority/referrals/{sent.pk}/")
    checked(officer)
    officer.get_by_role("button", name="Acknowledge referral").click()
    expect(officer.locator(".referral-status")).to_have_text("Acknowledged")
    checked(officer)
    officer.get_by_label("Your question").fill(QUESTION)
    officer.get_by_role("button", name="Send question").click()
    expect(officer.locator(".question-text")).to_contain_text(QUESTION)
    expect(officer.locator(".portal-questions")).to_contain_text("Not answered yet.")
    checked(officer)

    console = browser.new_context().new_page()
    log_in(console, live_server_url, counsellor, "/console/")
    todo = console.locator("#todo")
    expect(todo.locator(".todo-item")).to_have_count(1)
    checked(console)
    todo.get_by_role("link", name="Read and answer").click()
    expect(todo.locator(".question-text")).to_contain_text(QUESTION)
    todo.get_by_label("Your answer").fill(ANSWER)
    todo.get_by_role("button", name="Send the answer").click()
    expect(todo.get_by_role("status")).to_contain_text("Your answer is on the referral")
    checked(console)

    visit(officer, f"{live_server_url}/authority/referrals/{sent.pk}/")
    expect(officer.locator(".answer-text")).to_contain_text(ANSWER)
    officer.get_by_label("What happened").select_option(label="Investigation opened")
    officer.locator("#update-note").fill("An officer is assigned")
    officer.get_by_role("button", name="Record").click()
    history = officer.get_by_role("region", name="History")
    expect(history).to_contain_text("Progress update from the agency (Investigation opened)")
    expect(history).to_contain_text("An officer is assigned")
    checked(officer)

    visit(console, f"{live_server_url}/cases/{sent.case_id}/")
    for step in (
        "Referral acknowledged",
        "Question from the agency",
        "Answer to the agency",
        "Progress update from the agency (Investigation opened)",
    ):
        expect(console.locator("body")).to_contain_text(step)
    expect(console.locator("body")).not_to_contain_text("An officer is assigned")  # notes stay on the referral
