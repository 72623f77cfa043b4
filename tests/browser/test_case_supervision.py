"""A counsellor asks to close a case and a supervisor approves it; the case list, the caseloads page,
reassignment and break glass in a real browser on a phone. Every page is checked by axe and for CSP
errors at both widths (tests/browser/checks.py)."""

import pytest
from playwright.sync_api import expect

from cases.models import Approval, ApprovalStatus, BreakGlassAccess, Case, CaseStatus
from tests.browser.checks import DESKTOP, PHONE, checked, visit
from tests.browser.conftest import log_in
from tests.cases.supervision_world import case_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Safe with her aunt; the school counsellor follows up"


def test_a_counsellor_asks_to_close_and_a_supervisor_approves(
    browser, live_server_url, demo_line, counsellor, supervisor
):
    case = case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.IN_PROGRESS, risk="high")
    counselling = browser.new_context(viewport=PHONE).new_page()
    log_in(counselling, live_server_url, counsellor, "/cases/")
    expect(counselling.get_by_role("link", name=case.reference)).to_be_visible()
    checked(counselling)
    counselling.get_by_role("link", name=case.reference).click()
    counselling.wait_for_url(f"**/cases/{case.pk}/")
    counselling.get_by_role("link", name="Ask to close this case").click()
    counselling.wait_for_url(f"**/cases/{case.pk}/close/")
    counselling.get_by_role("button", name="Ask for closure").click()
    checked(counselling)  # the reason is required: the form says so
    counselling.get_by_label("Why can this case close?").fill(REASON)
    counselling.get_by_role("button", name="Ask for closure").click()
    counselling.wait_for_url(f"**/cases/{case.pk}/")
    expect(counselling.get_by_text("waiting for a supervisor of the line")).to_be_visible()
    checked(counselling)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.PENDING_CLOSURE

    supervising = browser.new_context(viewport=DESKTOP).new_page()
    log_in(supervising, live_server_url, supervisor, "/cases/supervision/")
    expect(supervising.get_by_role("heading", name="Waiting for your decision")).to_be_visible()
    checked(supervising)
    supervising.get_by_role("button", name="Approve closure").click()
    expect(supervising.get_by_text(f"Approved: case {case.reference} is closed.")).to_be_visible()
    checked(supervising)
    approval = Approval.objects.get(case=case)
    assert (approval.status, approval.decided_by.user, approval.requested_by.user) == (
        ApprovalStatus.APPROVED,
        supervisor,
        counsellor,
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED
    visit(supervising, f"{live_server_url}/cases/?status=closed")
    expect(supervising.get_by_role("link", name=case.reference)).to_be_visible()


def test_the_list_filters_reassignment_and_break_glass(
    browser, page, live_server_url, demo_line, other_line, counsellor, colleague, supervisor, far_supervisor
):
    here = case_make(line=demo_line, counsellor=counsellor, risk="imminent")
    log_in(page, live_server_url, supervisor, "/cases/")
    page.get_by_text("Filters").click()
    page.get_by_label("Risk").select_option("imminent")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("link", name=here.reference)).to_be_visible()
    checked(page)
    visit(page, f"{live_server_url}/cases/{here.pk}/reassign/")
    page.get_by_label("Give it to").select_option(label="colleague (Counsellor)")
    page.get_by_role("button", name="Reassign").click()
    page.wait_for_url(f"**/cases/{here.pk}/")
    assert Case.objects.get(pk=here.pk).counsellor.user == colleague

    far = browser.new_context(viewport=PHONE).new_page()
    log_in(far, live_server_url, far_supervisor, "/cases/")
    far.get_by_label("Reference").fill(here.reference)
    far.get_by_role("button", name="Find").click()
    far.get_by_role("link", name="Open it anyway, giving a reason (break glass)").click()
    far.wait_for_url("**/cases/break-glass/**")
    checked(far)
    far.get_by_label("Why do you need this case?").fill("The child moved to our region tonight")
    far.get_by_role("button", name="Open the case").click()
    far.wait_for_url(f"**/cases/{here.pk}/")
    expect(far.get_by_text("You opened this case from outside your lines")).to_be_visible()
    expect(far.get_by_text("The child moved to our region tonight")).to_be_visible()  # on the timeline
    checked(far)
    assert BreakGlassAccess.objects.filter(case=here, staff__user=far_supervisor).exists()
