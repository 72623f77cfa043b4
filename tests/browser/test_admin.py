"""A helpline manager in a real browser: adds a staff member and configures a line's risk phrases,
survey and opening hours, at desktop and phone width; axe finds nothing serious, the browser reports
no Content-Security-Policy violation, and no page scrolls sideways."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from helpline.models import Helpline, Staff
from tests.conftest import PASSWORD, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
NEW_PASSWORD = "a long first passphrase"


@pytest.fixture(params=list(WIDTHS))
def width(request):
    return request.param


@pytest.fixture
def manager_page(browser, live_server_url, admin_user, width):
    """A verified administrator's browser at the given width, recording CSP violations."""
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    page.set_default_timeout(30_000)  # the suite shares two cores with other work
    page.csp_violations = []
    page.on(
        "console",
        lambda message: page.csp_violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server_url}/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/2fa/verify/")
    page.get_by_label("Code from your authenticator app, or a backup code").fill(totp_now(admin_user))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/admin/")
    yield page
    context.close()


def check_page(page, name):
    """No CSP violation, nothing wider than the window, no serious or critical axe violation."""
    page.wait_for_load_state("load")
    assert page.csp_violations == [], f"{name}: {page.csp_violations}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: " + "; ".join(
        f"{v['id']}: {[node['target'] for node in v['nodes']][:5]}" for v in serious
    )
    # axe's own probes set inline styles, which the policy refuses: those are not the page's.
    page.csp_violations.clear()


def test_the_manager_adds_a_staff_member(manager_page, live_server_url, demo_line, width):
    page = manager_page
    check_page(page, "index")
    expect(page.get_by_role("link", name="Helpline administration")).to_be_visible()

    page.goto(f"{live_server_url}/admin/helpline/staff/add/")
    check_page(page, "add staff member")
    page.get_by_label("User name").fill(f"amina-{width}")
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
    expect(page.get_by_text("set up two-factor authentication at their first login")).to_be_visible()
    check_page(page, "staff list")
    staff = Staff.objects.get(user__username=f"amina-{width}")
    assert (staff.role, staff.languages, staff.capacity) == ("counsellor", ["sw"], 2)
    assert list(staff.lines.values_list("slug", flat=True)) == ["demo"]

    # A mistake is explained on the page, which stays usable.
    page.goto(f"{live_server_url}/admin/helpline/staff/add/")
    page.get_by_label("User name").fill(f"amina-{width}")
    page.get_by_label("First password:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("First password, again").fill("something else entirely")
    page.get_by_label("Role").select_option("counsellor")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("A user with this name already exists.")).to_be_visible()
    expect(page.get_by_text("The two passwords differ.")).to_be_visible()
    check_page(page, "add staff member with errors")


def test_the_manager_sets_risk_phrases_survey_and_opening_hours(manager_page, live_server_url, demo_line, width):
    page = manager_page
    page.goto(f"{live_server_url}/admin/helpline/helpline/{demo_line.pk}/change/")
    check_page(page, "line form")

    page.get_by_label("English (en)").fill("kill myself\nhe is here now")
    page.get_by_label("Swahili (sw)").fill("nataka kufa")
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
    expect(page.get_by_text("was changed successfully")).to_be_visible()
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
    expect(page.get_by_text("Question 2: give at least two choices, one per line.")).to_be_visible()
    assert page.get_by_role("group", name="Question 2").get_by_label("Question in English").input_value() == (
        "Would you write again?"
    )
    check_page(page, "line form with errors")
