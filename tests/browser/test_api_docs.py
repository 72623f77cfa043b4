"""The referral API's docs page in Chromium: Swagger UI loads from our own static files under the
strict CSP (no CSP error, no script error, axe at both widths, an operation opened too) and shows
the API's operations, without logging in."""

import pytest
from playwright.sync_api import expect

from tests.browser.checks import checked, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_under_the_csp_without_logging_in(page, live_server_url):
    visit(page, f"{live_server_url}/api/docs/")
    expect(page.get_by_text("Helpline referral API").first).to_be_visible()
    listing = page.locator("#operations-referrals-referrals_list")
    expect(listing).to_contain_text("/api/v1/referrals/")
    listing.locator(".opblock-summary-control").click()
    expect(listing.locator('tr[data-param-name="updated_since"]')).to_be_visible()
    checked(page)
