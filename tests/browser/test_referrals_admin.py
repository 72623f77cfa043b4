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
