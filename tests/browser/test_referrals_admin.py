"""The agency directory's admin pages in Chromium: list, add, change, memberships (axe, CSP, no sideways scroll)."""

import pytest

from tests.browser.checks import visit
from tests.browser.test_admin import check_page, manager_page  # noqa: F401 - the administrator's page fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_agency_page_a_manager_opens(manager_page, live_server_url, demo_line, authority):  # noqa: F811
    from referrals.services.agencies import agency_create, agency_membership_set

    agency = agency_create(
        actor=None, code="ke-police-nairobi", name="Nairobi police", kind="police", regions=["KE-047"]
    )
    membership = agency_membership_set(actor=None, user=authority, agency=agency)
    for path in [
        "/admin/referrals/agency/",
        "/admin/referrals/agency/add/",
        f"/admin/referrals/agency/{agency.pk}/change/",
        "/admin/referrals/agencymembership/",
        "/admin/referrals/agencymembership/add/",
        f"/admin/referrals/agencymembership/{membership.pk}/change/",
    ]:
        visit(manager_page, live_server_url + path)
        check_page(manager_page, path)


def test_the_agency_form_previews_what_the_agency_would_receive_before_saving(
    manager_page,  # noqa: F811
    live_server_url,
    demo_line,
):
    from playwright.sync_api import expect

    from referrals.models import Agency

    page = manager_page
    visit(page, f"{live_server_url}/admin/referrals/agency/add/")
    page.get_by_label("Delivery method").select_option("webhook")
    page.get_by_label("Delivery settings").fill("url = http://police.example/hook")
    page.get_by_role("button", name="Preview").click()
    problems = page.locator(".agency-preview-problems")
    expect(problems).to_contain_text("cannot be used")
    check_page(page, "agency preview refused")

    page.get_by_label("Delivery settings").fill("url = https://police.example/hook")
    page.get_by_label("Replace secrets").fill("signing_secret = a-long-enough-signing-secret")
    page.get_by_label("Child: age band").check()
    page.get_by_label("Incident: summary").check()
    page.get_by_role("button", name="Preview").click()
    sample = page.locator(".agency-preview-body")
    expect(sample).to_contain_text('"age_band":"13-15"')
    expect(sample).to_contain_text("Demo summary")
    expect(sample).not_to_contain_text("a-long-enough-signing-secret")
    check_page(page, "agency preview")
    assert not Agency.objects.exists()  # nothing was saved
