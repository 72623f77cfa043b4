"""A helpline manager in a real browser: adds a staff member and configures a line's risk phrases,
survey and opening hours, on a phone. Every page is checked at phone and desktop width
(tests/browser/checks.py: axe finds nothing serious, no Content-Security-Policy violation, no
script error), and no page scrolls sideways at either width."""

import pytest
from playwright.sync_api import expect

from helpline.models import Helpline, Staff
from tests.browser.checks import DESKTOP, PHONE, checked, visit
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a long first passphrase"
# Long admin forms: axe runs at two widths before each step, on two cores shared with other work.
SLOW = 60_000


@pytest.fixture
def manager_page(browser, live_server_url, admin_user):
    """A verified administrator's browser on a phone (every page is checked at both widths anyway)."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(SLOW)
    log_in(page, live_server_url, admin_user, landing="/admin/")
    page.wait_for_url("**/admin/")
    yield page
    context.close()


def check_page(page, name):
    """The shared checks (axe at both widths, CSP, script errors), and nothing wider than the window."""
    checked(page)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"


def test_the_manager_adds_a_staff_member(manager_page, live_server_url, demo_line):
    page = manager_page
    check_page(page, "index")
    expect(page.get_by_role("link", name="Helpline administration")).to_be_visible(timeout=SLOW)

    visit(page, f"{live_server_url}/admin/helpline/staff/add/")
    check_page(page, "add staff member")
    page.get_by_label("User name").fill("amina")
    page.get_by_label("First name").fill("Amina")
    page.get_by_label("First password:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("First password, again").fill(NEW_PASSWORD)
    page.get_by_label("Role").select_option("counsellor")
    page.get_by_label("Demo line").check()
    page.get_by_label("Swahili (sw)").check()
    page.get_by_label("Capacity").fill("2")
    page.get_by_label("Reason").fill("Starts on Monday")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()

    page.wait_for_url("**/admin/helpline/staff/")
    expect(page.get_by_text("set up two-factor authentication at their first login")).to_be_visible(timeout=SLOW)
    check_page(page, "staff list")
    staff = Staff.objects.get(user__username="amina")
    assert (staff.role, staff.languages, staff.capacity) == ("counsellor", ["sw"], 2)
    assert list(staff.lines.values_list("slug", flat=True)) == ["demo"]

    # A mistake is explained on the page, which stays usable.
    page.goto(f"{live_server_url}/admin/helpline/staff/add/")
    page.get_by_label("User name").fill("amina")
    page.get_by_label("First password:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("First password, again").fill("something else entirely")
    page.get_by_label("Role").select_option("counsellor")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("A user with this name already exists.")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("The two passwords differ.")).to_be_visible(timeout=SLOW)
    check_page(page, "add staff member with errors")


def test_the_manager_sets_risk_phrases_survey_and_opening_hours(manager_page, live_server_url, demo_line):
    page = manager_page
    page.goto(f"{live_server_url}/admin/helpline/helpline/{demo_line.pk}/change/")
    check_page(page, "line form")

    page.get_by_label("English (en)", exact=True).fill("kill myself\nhe is here now")
    page.get_by_label("Swahili (sw)", exact=True).fill("nataka kufa")
    page.get_by_label("Monday: opens (1)").fill("08:00")
    page.get_by_label("Monday: closes (1)").fill("20:00")
    page.get_by_label("Friday: opens (1)").fill("20:00")
    page.get_by_label("Friday: closes (1)").fill("02:00")
    page.get_by_label("Exception 1: first date").fill("2030-12-25")
    page.get_by_label("Exception 1: note").fill("Christmas")
    question = page.get_by_role("group", name="Question 1")
    question.get_by_label("Question in English").fill("Did this conversation help you?")
    question.get_by_label("Question in Swahili").fill("Je, mazungumzo haya yalikusaidia?")
    question.get_by_label("Choices, one per line").fill("yes\na little\nno")
    page.get_by_label("Reason for this change").fill("Set up for the launch")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue editing").click()

    page.wait_for_url(f"**/admin/helpline/helpline/{demo_line.pk}/change/")
    expect(page.get_by_text("was changed successfully")).to_be_visible(timeout=SLOW)
    check_page(page, "line form saved")
    line = Helpline.objects.get(pk=demo_line.pk)
    assert line.risk_phrases == {"en": ["kill myself", "he is here now"], "sw": ["nataka kufa"]}
    assert line.opening_hours == {"mon": [["08:00", "20:00"]], "fri": [["20:00", "02:00"]]}
    assert line.opening_exceptions == [{"from": "2030-12-25", "hours": [], "note": "Christmas"}]
    assert line.survey[0]["choices"] == ["yes", "a little", "no"]
    assert page.get_by_role("group", name="Question 1").get_by_label("Question in English").input_value() == (
        "Did this conversation help you?"
    )

    # A question with one choice is explained, and what was typed stays.
    question = page.get_by_role("group", name="Question 2")
    question.get_by_label("Question in English").fill("Would you write again?")
    question.get_by_label("Choices, one per line").fill("yes")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("Question 2: give at least two choices, one per line.")).to_be_visible(timeout=SLOW)
    assert page.get_by_role("group", name="Question 2").get_by_label("Question in English").input_value() == (
        "Would you write again?"
    )
    check_page(page, "line form with errors")


def test_every_admin_page_a_manager_opens(manager_page, live_server_url, demo_line, counsellor):
    from helpline.audit.models import AuditEvent
    from helpline.webchat.services import webchat_endpoint_ensure

    endpoint = webchat_endpoint_ensure(line=demo_line)
    event = AuditEvent.objects.order_by("-id").first()
    staff = Staff.objects.get(user=counsellor)
    for path in [
        "/admin/helpline/helpline/",
        "/admin/helpline/helpline/add/",
        "/admin/helpline/channelendpoint/",
        "/admin/helpline/channelendpoint/add/",
        f"/admin/helpline/channelendpoint/{endpoint.pk}/change/",
        "/admin/helpline/cannedresponse/",
        "/admin/helpline/cannedresponse/add/",
        f"/admin/helpline/staff/{staff.pk}/change/",
        "/admin/auth/user/",
        f"/admin/auth/user/{counsellor.pk}/change/",
        f"/admin/auth/user/{counsellor.pk}/password/",
        "/admin/password_change/",
        "/admin/audit/auditevent/",
        f"/admin/audit/auditevent/{event.pk}/change/",
    ]:
        visit(manager_page, live_server_url + path)
        check_page(manager_page, path)
    # The 2FA reset asks first, with a reason.
    visit(manager_page, f"{live_server_url}/admin/auth/user/")
    manager_page.get_by_role("row", name="counsellor").get_by_role("checkbox").check()
    manager_page.get_by_label("Action:").select_option("reset_two_factor")
    with manager_page.expect_navigation():
        manager_page.get_by_role("button", name="Go").click()
    expect(manager_page.get_by_label("Reason (kept in the audit trail)")).to_be_visible(timeout=SLOW)
    check_page(manager_page, "2FA reset confirmation")
