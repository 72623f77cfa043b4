"""An administrator edits an SOP in a real browser: mistakes appear as they type (with line and
column), a dry run shows which rules fire and why, the draft is saved, compared and activated.
Every page and every htmx swap is checked at phone and desktop width (tests/browser/checks.py),
and no page scrolls sideways."""

import pytest
from playwright.sync_api import expect

from referrals.sop.models import SopStatus, SopVersion
from referrals.sop.services import sop_import
from tests.browser.checks import DESKTOP, PHONE, checked, visit
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLOW = 60_000
FIRST = "sop: browser\nrules:\n  - id: high\n    when: {risk_at_least: high}\n    then: [{notify: supervisors}]\n"
FACTS = "categories: [violence.ocsea.sextortion]\nrisk_level: high\nregion: KE-047\n"


def no_sideways_scroll(page, name):
    checked(page)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"


def test_an_administrator_edits_tries_and_activates_an_sop(browser, live_server_url, admin_user, demo_line):
    sop_import(actor=None, line=demo_line, text=FIRST, activate=True)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(SLOW)
    log_in(page, live_server_url, admin_user, landing="/sop/")
    page.wait_for_url("**/sop/")
    no_sideways_scroll(page, "SOP list")
    expect(page.locator('tr[data-version="1"]')).to_contain_text("Active")

    page.get_by_role("link", name="New draft").first.click()
    page.wait_for_url("**/sop/line/demo/new/")
    editor = page.get_by_label("SOP document (YAML)")
    expect(editor).to_have_value(FIRST)  # a new draft starts from the active version
    no_sideways_scroll(page, "editor")

    # A mistake shows up while typing, with its line and column and the rule it is in.
    mistaken = FIRST.replace("supervisors", "supervisor").replace("high}", "hihg}")
    editor.fill(mistaken)
    errors = page.locator("#sop-errors")
    expect(errors).to_contain_text("2 mistakes")
    expect(errors).to_contain_text("line 4:27")
    expect(errors).to_contain_text("rule high")
    expect(errors).to_contain_text("did you mean 'high'?")
    expect(errors).to_contain_text("line 5:21")
    checked(page)
    # A mistake's position takes the cursor there.
    page.get_by_role("button", name="Go to line 4, column 27").click()
    expect(editor).to_be_focused()
    assert editor.evaluate("element => element.selectionStart") == mistaken.index("hihg")
    # The dry run refuses a document with mistakes.
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#dry-run-result")).to_contain_text("Fix the document's mistakes first.")

    text = FIRST + (
        "  - id: sextortion\n"
        "    when: {categories_any: [violence.ocsea.sextortion], risk_at_least: high}\n"
        "    then:\n"
        "      - refer: {agency_kind: police, jurisdiction: case}\n"
        "        due_within: 24h\n"
        "        consent: override_allowed\n"
        "        share: [child.age_band, incident.summary]\n"
        "  - id: csam\n"
        "    when: {categories_any: [violence.ocsea.csam_shared], has: incident.urls}\n"
        "    then: [{refer: {agency: iwf}, consent: not_required}]\n"
    )
    editor.fill(text)
    expect(errors).to_contain_text("No mistakes: 3 rules.")
    checked(page)

    page.get_by_label("Case facts").fill(FACTS)
    page.get_by_role("button", name="Dry run").click()
    result = page.locator("#dry-run-result")
    expect(result).to_contain_text("2 of 3 rules fire.")
    expect(result.locator('[data-rule="sextortion"]')).to_contain_text("fires")
    expect(result.locator('[data-rule="sextortion"]')).to_contain_text("police (KE-047, else national)")
    expect(result.locator('[data-rule="csam"]')).to_contain_text("does not fire")
    expect(result.locator('[data-rule="csam"]')).to_contain_text("Not: no category under any of")
    no_sideways_scroll(page, "dry run")

    page.get_by_label("What changed (for the audit trail)").fill("police for sextortion")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    draft = SopVersion.objects.get(number=2)
    page.wait_for_url(f"**/sop/v/{draft.pk}/")
    expect(page.get_by_role("status").first).to_contain_text("Draft version 2 saved.")
    no_sideways_scroll(page, "saved draft")

    visit(page, f"{live_server_url}/sop/line/demo/compare/?a=1&b=2")
    expect(page.locator(".sop-diff")).to_contain_text("+  - id: sextortion")
    no_sideways_scroll(page, "compare")

    visit(page, f"{live_server_url}/sop/v/{draft.pk}/activate/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Activate version 2 of Demo line?")
    page.get_by_label("Why activate this version").fill("new pathway agreed with police")
    no_sideways_scroll(page, "activate")
    with page.expect_navigation():
        page.get_by_role("button", name="Activate version 2").click()
    page.wait_for_url("**/sop/")
    expect(page.locator('tr[data-version="2"]')).to_contain_text("Active")
    expect(page.locator('tr[data-version="1"]')).to_contain_text("Retired")
    checked(page)
    assert SopVersion.objects.get(pk=draft.pk).status == SopStatus.ACTIVE
    context.close()
