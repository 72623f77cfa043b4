"""The referral plan in Chromium: a sextortion case at high risk, the SOP proposes the police and social
services; the counsellor confirms and asks for a consent override; a supervisor approves it; the police
referral reaches a webhook receiver on 127.0.0.1, which acknowledges it; the plan's history shows each
step. Every page is checked at phone and desktop width (axe, CSP, script errors)."""

import pytest
from playwright.sync_api import expect

from tests.browser.checks import checked, visit
from tests.browser.conftest import in_worker_thread, log_in
from tests.integrations.webhook.conftest import PATH, SECRET, Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(counsellor, supervisor, demo_line, authority, fake_http):
    from referrals.models import Agency
    from referrals.services.agencies import agency_membership_set, agency_update
    from tests.referrals.world import referral_world

    server = fake_http()
    receiver = Receiver(server=server, acknowledge=True)
    server.route("POST", PATH, receiver.handle)

    def build():
        case, plan = referral_world(counsellor, demo_line)
        police = Agency.objects.get(code="ke-police-nairobi")
        agency_update(
            actor=None,
            agency=police,
            transport="webhook",
            transport_config={"url": receiver.url},
            secrets={"signing_secret": SECRET},
        )
        agency_membership_set(actor=None, user=authority, agency=police)
        return case

    return in_worker_thread(build), receiver


def test_sextortion_plan_to_an_acknowledged_webhook_referral(browser, live_server_url, world, counsellor, supervisor):
    from referrals.models import Delivery, Referral
    from referrals.outbox import delivery_attempt

    case, receiver = world
    plan_url = f"{live_server_url}/referrals/case/{case.pk}/"

    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server_url, counsellor)
    visit(page, plan_url)
    police = page.get_by_role("region", name="Nairobi County Police, Gender and Children Desk")
    social = page.get_by_role("region", name="Children's Services, Nairobi County")
    expect(police).to_contain_text("sextortion-high-risk")
    expect(social).to_contain_text("Proposed")
    police.get_by_role("button", name="Confirm referral").click()
    page.wait_for_load_state()
    police = page.get_by_role("region", name="Nairobi County Police, Gender and Children Desk")
    expect(police).to_contain_text("a supervisor's approval")
    police.get_by_label("Why send without consent?").fill("Asking would put her at risk tonight")
    police.get_by_role("button", name="Ask a supervisor to override consent").click()
    page.wait_for_load_state()
    checked(page)
    visit(page, f"{live_server_url}/referrals/resources/?need=violence.ocsea.sextortion&region=KE-047")
    expect(page.get_by_text("Nairobi County Police, Gender and Children Desk")).to_be_visible()
    context.close()

    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server_url, supervisor)
    visit(page, f"{live_server_url}/referrals/attention/")
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_url(f"**/referrals/case/{case.pk}/")
    police = page.get_by_role("region", name="Nairobi County Police, Gender and Children Desk")
    police.get_by_label("Approve").check()
    police.get_by_label("Why?").last.fill("Risk is high and consent cannot be asked safely")
    police.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    police = page.get_by_role("region", name="Nairobi County Police, Gender and Children Desk")
    expect(police).to_contain_text("Queued for delivery")

    delivery = in_worker_thread(lambda: Delivery.objects.get(referral__agency__code="ke-police-nairobi"))
    assert in_worker_thread(lambda: delivery_attempt(delivery_id=delivery.pk)) == "sent"
    [request] = receiver.server.requests_to("POST", PATH)
    assert request.json()["case_reference"] == case.reference

    visit(page, plan_url)
    police = page.get_by_role("region", name="Nairobi County Police, Gender and Children Desk")
    expect(police.locator(".referral-status")).to_have_text("Acknowledged")
    police.get_by_text("History").click()
    for step in (
        "proposed",
        "confirmation",
        "override_requested",
        "override_approved",
        "approved",
        "sent",
        "acknowledged",
    ):
        expect(police.locator(".referral-events")).to_contain_text(step)
    checked(page)
    assert in_worker_thread(lambda: Referral.objects.get(pk=delivery.referral_id).status) == "acknowledged"
    context.close()


def test_the_authority_inbox_shows_its_agencys_referrals(page, live_server_url, world, authority):
    visit(page, live_server_url + "/authority/")  # sends to login
    log_in(page, live_server_url, authority, landing="/authority/")
    visit(page, live_server_url + "/authority/")
    expect(page.get_by_text("Referrals sent to Nairobi County Police")).to_be_visible()
