"""A counsellor wraps up a web chat in the console, opens a case, adds a person and a note, and asks
for closure, which a supervisor approves; a person on a case is changed and removed.

The wrap-up draft is saved as the counsellor types and survives a reload; the case page
and its printable summary pass the page checks (axe, CSP) at both widths.
"""

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseNote, CasePerson, CaseStatus, ContactWrapup
from cases.services.taxonomy import DEFAULT_DOCUMENT, line_regions_set, taxonomy_document_load, taxonomy_import
from helpline.models import Presence
from helpline.services.inbound import message_receive
from helpline.services.queue import contact_accept, contact_end, presence_set
from helpline.vault.services import unseal
from helpline.webchat.services import webchat_endpoint_ensure
from tests.browser.checks import checked, visit
from tests.browser.conftest import in_worker_thread, log_in

# The page checks run axe at two widths before each assertion after a load; on a busy
# machine that alone can take longer than Playwright's default five seconds.
LOADED = 20_000

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUMMARY = "A man she met in a game threatens to share her photos"


def chat_in_wrapup(demo_line, counsellor):
    """The taxonomy and regions in place, and a web chat the counsellor answered and ended."""

    def work():
        taxonomy_import(actor=None, document=taxonomy_document_load(DEFAULT_DOCUMENT), activate=True)
        line_regions_set(actor=None, line=demo_line, regions=[{"code": "KE-047", "label": "Nairobi"}])
        endpoint = webchat_endpoint_ensure(line=demo_line)
        staff = counsellor.staff
        presence_set(staff=staff, presence=Presence.AVAILABLE)
        contact = message_receive(
            endpoint=endpoint,
            sender="c" * 32,
            body="he wants money or he posts my photos",
            language="en",
            age_band="13-15",
        ).contact
        contact = contact_accept(staff=staff, contact_id=contact.pk)
        return contact_end(actor=staff, contact=contact)

    return in_worker_thread(work)


def test_a_counsellor_wraps_up_a_chat_and_opens_a_case_with_a_person_and_a_note(
    browser, page, live_server_url, demo_line, counsellor, supervisor
):
    contact = chat_in_wrapup(demo_line, counsellor)
    page.set_default_timeout(LOADED)  # each autosave changes the page, and the checks run axe again
    log_in(page, live_server_url, counsellor, "/console/")
    visit(page, f"{live_server_url}/console/c/{contact.pk}/")
    pane = page.locator("#pane-wrapup")
    expect(pane.get_by_role("heading", name="Wrap-up")).to_be_visible(timeout=LOADED)
    # The age band comes from the chat's pre-chat step.
    expect(pane.get_by_label("Child's age band")).to_have_value("13-15", timeout=LOADED)

    pane.get_by_label("Data contact").check()
    pane.get_by_label("Who contacted the line").select_option("child")
    pane.get_by_label("Risk level").select_option("high")
    pane.get_by_label("Region").select_option("KE-047")
    pane.locator("summary", has_text="Abuse and violence").click()
    pane.get_by_label("Sextortion").check()
    pane.get_by_label("To report what happened").check()
    summary = pane.get_by_label("Summary (encrypted", exact=False)
    # Wait for the autosave that carries the summary (an earlier one already says "Draft saved").
    with page.expect_response(
        lambda response: response.request.method == "POST" and "threatens" in (response.request.post_data or ""),
        timeout=LOADED,
    ):
        summary.fill(SUMMARY)
        summary.blur()
    expect(pane.locator("#wrapup-status")).to_contain_text("Draft saved", timeout=LOADED)
    checked(page)

    # Nothing is lost on reload: the draft comes back from the server.
    page.reload()
    pane = page.locator("#pane-wrapup")
    expect(pane.get_by_label("Summary (encrypted", exact=False)).to_have_value(SUMMARY, timeout=LOADED)
    expect(pane.get_by_label("Sextortion")).to_be_checked(timeout=LOADED)

    pane.get_by_role("button", name="Open a new case").click()
    expect(pane.locator(".notice")).to_contain_text("opened", timeout=LOADED)
    case = Case.objects.get()
    expect(pane.get_by_role("link", name=case.reference)).to_be_visible(timeout=LOADED)
    checked(page)

    pane.get_by_role("link", name=case.reference).click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    expect(page.get_by_role("heading", name=f"Case {case.reference}")).to_be_visible(timeout=LOADED)
    page.locator("#add-person summary").click()
    person = page.locator("#add-person")
    person.get_by_label("Role").select_option("child")
    person.get_by_label("Name").fill("Amani")
    person.get_by_role("spinbutton", name="Age").fill("14")
    person.get_by_role("button", name="Add person").click()
    expect(page.locator(".messages")).to_contain_text("Person added.", timeout=LOADED)
    expect(page.locator(".people")).to_contain_text("Amani", timeout=LOADED)
    checked(page)

    page.get_by_label("New note").fill("Agreed to call back after school")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".notes")).to_contain_text("Agreed to call back after school", timeout=LOADED)
    expect(page.locator(".timeline")).to_contain_text("Note", timeout=LOADED)
    checked(page)

    visit(page, f"{live_server_url}/cases/{case.pk}/print/")
    expect(page.locator(".case-print")).to_contain_text("Amani", timeout=LOADED)

    wrapup = ContactWrapup.objects.select_related("data_key").get(contact_id=contact.pk)
    assert wrapup.case == case and unseal(wrapup, "summary") == SUMMARY
    assert CaseNote.objects.filter(case=case).count() == 1

    # The same case goes on to closure: the counsellor asks, a supervisor of the line approves.
    visit(page, f"{live_server_url}/cases/{case.pk}/")
    page.get_by_role("link", name="Ask to close this case").click()
    page.wait_for_url(f"**/cases/{case.pk}/close/")
    page.get_by_label("Why can this case close?").fill("Safe with her aunt; the school follows up")
    page.get_by_role("button", name="Ask for closure").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    expect(page.get_by_text("waiting for a supervisor of the line")).to_be_visible(timeout=LOADED)
    checked(page)
    supervising = browser.new_context().new_page()
    supervising.set_default_timeout(LOADED)
    log_in(supervising, live_server_url, supervisor, "/cases/supervision/")
    supervising.get_by_role("button", name="Approve closure").click()
    expect(supervising.get_by_text(f"Approved: case {case.reference} is closed.")).to_be_visible(timeout=LOADED)
    checked(supervising)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED


def test_a_phone_call_is_logged_by_hand(page, live_server_url, demo_line, counsellor):
    def setup():
        taxonomy_import(actor=None, document=taxonomy_document_load(DEFAULT_DOCUMENT), activate=True)

    in_worker_thread(setup)
    page.set_default_timeout(LOADED)
    log_in(page, live_server_url, counsellor, "/console/")
    visit(page, f"{live_server_url}/cases/log/")
    page.get_by_label("Phone call").check()
    page.get_by_label("Silent").check()
    page.get_by_role("button", name="Log the contact", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Contact logged.", timeout=LOADED)
    checked(page)
    assert ContactWrapup.objects.get().channel == "phone"


def test_a_person_on_the_case_is_changed_and_then_removed_with_a_reason(page, live_server_url, demo_line, counsellor):
    contact = chat_in_wrapup(demo_line, counsellor)

    def setup():
        from cases.services.cases import case_open
        from cases.services.people import case_person_add
        from cases.services.wrapups import wrapup_open

        staff = counsellor.staff
        case = case_open(actor=staff, wrapup=wrapup_open(actor=staff, contact=contact))
        person = case_person_add(actor=staff, case=case, role="alleged_perpetrator", name="Juma")
        return case, person

    case, person = in_worker_thread(setup)
    page.set_default_timeout(LOADED)
    log_in(page, live_server_url, counsellor, "/console/")
    visit(page, f"{live_server_url}/cases/{case.pk}/")
    entry = page.locator(".person").first
    entry.locator(".person-edit summary").click()
    entry.locator(".person-remove summary").click()
    checked(page)  # both new forms open, at both widths
    edit = entry.locator(".person-edit")
    edit.get_by_label("Name").fill("Juma Otieno")
    edit.get_by_label("Relationship to the child").select_option("stranger_online")
    edit.get_by_role("button", name="Save person").click()
    expect(page.locator(".messages")).to_contain_text("Person changed.", timeout=LOADED)
    expect(page.locator(".people")).to_contain_text("Juma Otieno", timeout=LOADED)
    checked(page)

    entry = page.locator(".person").first
    entry.locator(".person-remove summary").click()
    entry.get_by_label("Why remove this person").fill("Added to the wrong case")
    entry.get_by_role("button", name="Remove person").click()
    expect(page.locator(".messages")).to_contain_text("Person removed from the case.", timeout=LOADED)
    expect(page.locator(".timeline")).to_contain_text("Person removed: Alleged perpetrator", timeout=LOADED)
    expect(page.locator(".people")).not_to_contain_text("Juma", timeout=LOADED)
    checked(page)
    assert CasePerson.objects.get(pk=person.pk).removed_at is not None
