"""The checks every browser test runs (tests/browser/checks.py) catch what they are for."""

import pytest

from tests.browser.checks import PageProblems, checked, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clean_page_passes(page, live_server_url):
    visit(page, f"{live_server_url}/test-pages/clean/")
    assert page.evaluate("document.documentElement.dataset.nonced") == "yes"  # a script with the nonce runs


def test_an_input_without_a_label_fails_at_both_widths(page, live_server_url):
    page.goto(f"{live_server_url}/test-pages/unlabelled-input/")
    with pytest.raises(PageProblems) as failure:
        checked(page)
    report = str(failure.value)
    assert "axe label (critical)" in report
    assert "/test-pages/unlabelled-input/ at 390px" in report
    assert "/test-pages/unlabelled-input/ at 1366px" in report
    assert "target input" in report


def test_an_inline_style_fails(page, live_server_url):
    page.goto(f"{live_server_url}/test-pages/inline-style/")
    with pytest.raises(PageProblems, match=r"CSP violation on .*/test-pages/inline-style/: style-src"):
        checked(page)


def test_an_inline_script_without_the_nonce_fails_and_does_not_run(page, live_server_url):
    page.goto(f"{live_server_url}/test-pages/inline-script/")
    with pytest.raises(PageProblems, match=r"CSP violation on .*/test-pages/inline-script/: script-src"):
        checked(page)
    assert page.title() == "A test page: inline-script"


def test_a_fault_the_test_never_looks_at_still_fails_it(browser, live_server_url):
    """The check runs before the next action, with no call from the test."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server_url}/test-pages/unlabelled-input/")
    page.get_by_role("button", name="Search").focus()  # an action: the handler checks first
    context.close()
    with pytest.raises(PageProblems, match=r"axe label \(critical\)"):
        browser.finish_test()


def test_an_uncaught_script_error_fails(page, live_server_url):
    page.goto(f"{live_server_url}/test-pages/script-error/")
    with pytest.raises(PageProblems, match=r"Uncaught error on .*/test-pages/script-error/: .*a test page's own bug"):
        checked(page)


def test_a_fault_added_after_the_load_is_found_before_the_next_action(page, live_server_url):
    """A DOM change (an htmx swap, a live update) marks the page; the next action checks it first."""
    visit(page, f"{live_server_url}/test-pages/clean/")
    page.evaluate("document.querySelector('form').insertAdjacentHTML('beforeend', '<input name=late>')")
    page.get_by_role("button", name="Search").focus()
    found = page.context._helpline_watch.take_problems()
    assert [problem.split(" on ")[0] for problem in found] == ["axe label (critical)"] * 2
