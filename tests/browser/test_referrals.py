"""The referral plan in Chromium: the counsellor classifies a web chat in the console's wrap-up pane as
sextortion at high risk and opens a case; the SOP proposes the police and social services (and alerts
the line's supervisors); the counsellor confirms and asks for a consent override; a supervisor marks the
alert seen and approves the override; the police referral reaches a webhook receiver on 127.0.0.1, which
acknowledges it; the plan's history and the case's timeline show each step. Every page is checked at
phone and desktop width (axe, CSP, script errors)."""

import pytest
from playwright.sync_api import expect

from tests.browser.checks import checked, visit
from tests.browser.conftest import in_worker_thread, log_in
from tests.browser.test_cases import LOADED, chat_in_wrapup
from tests.integrations.webhook.conftest import PATH, Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _receiver(fake_http):
    server = fake_http()
    receiver = Receiver(server=server, acknowledge=True)
    server.route("POST", PATH, receiver.handle)
    return receiver


def _police_on_webhook(receiver, authority):
    from referrals.models import Agency
    from referrals.services.agencies import agency_membership_set

    police = Agency.objects.get(code="ke-police-nairobi")
    receiver.serve(police)
    agency_membership_set(actor=None, user=authority, agency=police)


@pytest.fixture
def world(counsellor, supervisor, demo_line, authority, fake_http):
    """A case classified programmatically (for the authority inbox)."""
    from tests.referrals.world import referral_world

    receiver = _receiver(fake_http)

    def build():
        case, plan = referral_world(counsellor, demo_line)
        _police_on_webhook(receiver, authority)
        return case

    return in_worker_thread(build), receiver


@pytest.fixture
def unclassified(counsellor, supervisor, demo_line, authority, fake_http):
    """The demo agencies and SOP, the police on the webhook receiver, and a web chat the counsellor ended:
    nothing classified yet (the taxonomy and the line's regions come with the chat)."""
    from referrals.demo import DEMO_AGENCIES
    from referrals.services.agencies import agency_create
    from referrals.sop.demo import sop_demo_load

    receiver = _receiver(fake_http)
    contact = chat_in_wrapup(demo_line, counsellor)

    def build():
        for entry in DEMO_AGENCIES:
            agency_create(actor=None, **entry)
        sop_demo_load(demo_line)
        _police_on_webhook(receiver, authority)

    in_worker_thread(build)
    return contact, receiver


POLICE = "Nairobi County Police, Gender and Children Desk"
SOCIAL = "Children's Services, Nairobi County"


def test_sextortion_classified_in_the_console_to_an_acknowledged_webhook_referral(
    browser, live_server_url, unclassified, counsellor, supervisor
):
    from cases.models import Case
    from referrals.models import Delivery, Referral
    from referrals.outbox import delivery_attempt

    contact, receiver = unclassified
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(LOADED)
    log_in(page, live_server_url, counsellor, "/console/")

    # The counsellor classifies the conversation in the wrap-up pane and opens a case.
    visit(page, f"{live_server_url}/console/c/{contact.pk}/")
    pane = page.locator("#pane-wrapup")
    expect(pane.get_by_role("heading", name="Wrap-up")).to_be_visible(timeout=LOADED)
    pane.get_by_label("Data contact").check()
    pane.get_by_label("Who contacted the line").select_option("child")
    pane.get_by_label("Region").select_option("KE-047")
    pane.locator("summary", has_text="Abuse and violence").click()
    pane.get_by_label("Sextortion").check()
    risk = pane.get_by_label("Risk level")
    # The last choice waits for the autosave that carries it.
    with page.expect_response(
        lambda response: response.request.method == "POST" and "risk_level=high" in (response.request.post_data or "")
    ):
        risk.select_option("high")
        risk.blur()
    expect(pane.locator("#wrapup-status")).to_contain_text("Draft saved", timeout=LOADED)
    pane.get_by_role("button", name="Open a new case").click()
    expect(pane.locator(".notice")).to_contain_text("opened", timeout=LOADED)
    case = in_worker_thread(lambda: Case.objects.get())
    expect(pane.get_by_role("link", name=case.reference)).to_be_visible(timeout=LOADED)
    checked(page)

    # The SOP proposed the police and social services (evaluated after the case was committed).
    plan_url = f"{live_server_url}/referrals/case/{case.pk}/"
    visit(page, plan_url)
    police = page.get_by_role("region", name=POLICE)
    social = page.get_by_role("region", name=SOCIAL)
    expect(police).to_contain_text("sextortion-high-risk", timeout=LOADED)
    expect(social).to_contain_text("Proposed", timeout=LOADED)
    expect(page.locator(".sop-notice")).to_contain_text("Not seen by a supervisor yet.", timeout=LOADED)
    police.get_by_role("button", name="Confirm referral").click()
    page.wait_for_load_state()
    police = page.get_by_role("region", name=POLICE)
    expect(police).to_contain_text("a supervisor's approval", timeout=LOADED)
    police.get_by_label("Why send without consent?").fill("Asking would put her at risk tonight")
    police.get_by_role("button", name="Ask a supervisor to override consent").click()
    page.wait_for_load_state()
    expect(page.get_by_role("region", name=POLICE)).to_contain_text(
        "a supervisor's decision on the consent override", timeout=LOADED
    )
    checked(page)
    visit(page, f"{live_server_url}/referrals/resources/?need=violence.ocsea.sextortion&region=KE-047")
    expect(page.get_by_text(POLICE)).to_be_visible(timeout=LOADED)
    context.close()

    # The supervisor sees the SOP's alert, marks it seen, and approves the override.
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(LOADED)
    log_in(page, live_server_url, supervisor)
    visit(page, f"{live_server_url}/supervisor/")
    alert = page.locator(".alert-item", has_text=case.reference)
    expect(alert).to_contain_text("The SOP asks a supervisor to look at this case", timeout=LOADED)
    checked(page)
    alert.get_by_role("button", name="Mark seen").click()
    expect(page.locator("#sup-alerts")).not_to_contain_text(case.reference, timeout=LOADED)
    visit(page, f"{live_server_url}/referrals/attention/")
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_url(f"**/referrals/case/{case.pk}/")
    police = page.get_by_role("region", name=POLICE)
    police.get_by_label("Approve").check()
    police.get_by_label("Why?").last.fill("Risk is high and consent cannot be asked safely")
    police.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    police = page.get_by_role("region", name=POLICE)
    expect(police).to_contain_text("Queued for delivery", timeout=LOADED)

    delivery = in_worker_thread(lambda: Delivery.objects.get(referral__agency__code="ke-police-nairobi"))
    assert in_worker_thread(lambda: delivery_attempt(delivery_id=delivery.pk)) == "sent"
    [request] = receiver.server.requests_to("POST", PATH)
    assert request.json()["case_reference"] == case.reference
    assert request.json()["categories"][0]["code"] == "violence.ocsea.sextortion"

    visit(page, plan_url)
    police = page.get_by_role("region", name=POLICE)
    expect(police.locator(".referral-status")).to_have_text("Acknowledged", timeout=LOADED)
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
        expect(police.locator(".referral-events")).to_contain_text(step, timeout=LOADED)
    expect(page.locator(".sop-notice")).to_contain_text("Seen by", timeout=LOADED)
    checked(page)

    # The case's timeline shows each step.
    visit(page, f"{live_server_url}/cases/{case.pk}/")
    timeline = page.locator(".timeline")
    for step in (
        "Referral proposed by the SOP: " + POLICE,
        "Referral proposed by the SOP: " + SOCIAL,
        "Referral confirmed by the counsellor",
        "Consent override asked",
        "Consent override approved",
        "Referral approved by a supervisor",
        "Referral delivered",
        "Referral acknowledged",
        "SOP notice for the line's supervisors",
        "SOP notice seen by a supervisor",
    ):
        expect(timeline).to_contain_text(step, timeout=LOADED)
    checked(page)
    assert in_worker_thread(lambda: Referral.objects.get(pk=delivery.referral_id).status) == "acknowledged"
    context.close()


def test_the_authority_inbox_shows_its_agencys_referrals(page, live_server_url, world, authority):
    visit(page, live_server_url + "/authority/")  # sends to login
    log_in(page, live_server_url, authority, landing="/authority/")
    visit(page, live_server_url + "/authority/")
    expect(page.get_by_text("Referrals sent to Nairobi County Police")).to_be_visible()
