"""Accessibility (axe-core) and Content-Security-Policy checks on every page the browser tests open.

Automatic, not opt-in: the ``browser`` fixture hands out contexts that watch themselves.

- Every CSP violation (a ``securitypolicyviolation`` listener added before any page script),
  every Chromium console message about the Content Security Policy and every uncaught page
  error is recorded as it happens.
- Every page is checked with axe at phone (390×844) and desktop (1366×768) width, failing on
  any violation of impact "serious" or "critical": before the next action or auto-waiting
  assertion after the page loaded or its DOM changed (an htmx swap, a live update), when its
  context closes, and at the end of the test. Pages of other origins are not checked.
- ``checked(page)`` checks now and fails at once; call it after an important state change
  the test does not act on. ``visit(page, url)`` is ``page.goto`` followed by ``checked``.

Whatever was recorded fails the test at its end with every problem: rule id, impact, target
selector, page address and width.

Why this shape: Playwright's sync API must not be called from its own event handlers (it can
deadlock, and the test keeps running meanwhile), so the page only *marks* itself as changed
(an attribute on ``<html>``) and reports CSP violations through a binding that merely records
them; axe runs from a locator handler, which Playwright calls at its own safe point, before
the next action.
"""

import json
from dataclasses import dataclass, field

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Error as PlaywrightError

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
WIDTHS = (PHONE, DESKTOP)
FAILING_IMPACTS = ("serious", "critical")
PENDING = "data-a11y-pending"
BINDING = "__helplineCheckReport"

INIT_SCRIPT = """
(() => {
  const report = (problem) => window.BINDING && window.BINDING(problem);
  document.addEventListener("securitypolicyviolation", (event) => report({
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
    url: location.href,
  }), true);
  if (window.top !== window) return;
  // Mark the page as changed since its last check; the check runs before the next action.
  const mark = () => document.documentElement && document.documentElement.setAttribute("PENDING", "");
  new MutationObserver((mutations) => {
    if (mutations.some((mutation) => mutation.attributeName !== "PENDING")) mark();
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
""".replace("BINDING", BINDING).replace("PENDING", PENDING)

# preload: false: axe would otherwise fetch stylesheets that use @import (Django's admin does)
# and parse them as inline <style> elements, which the page's own CSP rightly refuses.
# How long a page action or an expectation waits (tests/browser/conftest.py sets the latter).
PAGE_TIMEOUT_MS = 10_000
# One run at a time per page: axe refuses a second run while one is going, which happens when a check
# at the context's close follows a locator handler's check that a timed-out wait left running.
AXE_RUN = """async (impacts) => {
  const previous = window.__helplineAxeRun || Promise.resolve();
  const run = previous.catch(() => null).then(() => axe.run(document, {resultTypes: ["violations"], preload: false}));
  window.__helplineAxeRun = run;
  const results = await run;
  return results.violations
    .filter((violation) => impacts.includes(violation.impact))
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({target: node.target.join(" "), html: node.html.slice(0, 160)})),
    }));
}"""


class PageProblems(AssertionError):
    """What the checks found, one line each."""


@dataclass
class ContextWatch:
    """Records what goes wrong in one browser context, and checks its pages."""

    origin: str
    problems: dict[object, str] = field(default_factory=dict)  # ordered; one per key, the first seen
    reported: set[object] = field(default_factory=set)  # keys raised once already: not again

    def record(self, problem: str, *, key: object = None) -> None:
        key = key or problem
        if key not in self.reported:
            self.problems.setdefault(key, problem)

    # --- event handlers: they only record (no Playwright call from inside them) ---------------

    def on_csp_report(self, source, report) -> None:
        self.record(
            f"CSP violation on {report.get('url')}: {report.get('directive')} blocked "
            f"{report.get('blocked') or 'inline'} ({report.get('source') or ''}:{report.get('line')}) "
            f"{report.get('sample') or ''}".rstrip()
        )

    def on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.record(f"CSP console error: {message.text}")

    def on_web_error(self, web_error) -> None:
        self.record(f"Uncaught error on {web_error.page.url if web_error.page else '?'}: {web_error.error}")

    # --- checks, at safe points --------------------------------------------------------------

    def check_page(self, page) -> None:
        """Run axe on ``page`` at both widths (then restore its own), recording what fails."""
        if page.is_closed():
            return
        own_size = page.viewport_size
        try:
            page.evaluate(f"document.documentElement.removeAttribute({json.dumps(PENDING)})")
            if not page.url.startswith(self.origin):
                return
            if not page.evaluate("typeof window.axe !== 'undefined'"):
                page.evaluate(AXE_SCRIPT)  # run by the browser's debugger, not subject to the page's CSP
            for size in WIDTHS:
                page.set_viewport_size(size)
                for violation in page.evaluate(AXE_RUN, list(FAILING_IMPACTS)):
                    nodes = violation["nodes"]
                    targets = "; ".join(f"{node['target']}: {node['html']}" for node in nodes[:3])
                    more = f" (and {len(nodes) - 3} more)" if len(nodes) > 3 else ""
                    self.record(
                        f"axe {violation['id']} ({violation['impact']}) on {page.url} at {size['width']}px: "
                        f"{violation['help']}; target {targets}{more}",
                        key=(violation["id"], page.url, size["width"]),
                    )
        except PlaywrightError as error:
            if "context was destroyed" not in str(error):
                raise
            # The page navigated meanwhile: the new document marks itself and is checked in turn.
        finally:
            if own_size and not page.is_closed():
                page.set_viewport_size(own_size)

    def take_problems(self) -> list[str]:
        problems = list(self.problems.values())
        self.reported.update(self.problems)
        self.problems.clear()
        return problems


def raise_problems(problems: list[str]) -> None:
    if problems:
        raise PageProblems(f"{len(problems)} page problem(s):\n  " + "\n  ".join(problems))


class CheckedBrowser:
    """The session's Chromium, handing out contexts whose pages are checked (see the module docstring).

    Everything else is the Playwright ``Browser`` itself.
    """

    def __init__(self, browser, origin: str):
        self._browser = browser
        self._origin = origin
        self._open: list = []  # contexts of the running test
        self._closed_problems: list[str] = []

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        watch = ContextWatch(origin=self._origin)
        context.expose_binding(BINDING, watch.on_csp_report)
        context.add_init_script(INIT_SCRIPT)
        context.on("console", watch.on_console)
        context.on("weberror", watch.on_web_error)
        context._helpline_watch = watch
        new_page, close = context.new_page, context.close

        def checked_new_page():
            page = new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.add_locator_handler(
                page.locator(f"html[{PENDING}]"), lambda: watch.check_page(page), no_wait_after=True
            )
            return page

        def checked_close(**close_options):
            # The final state of every page, then the context; problems fail the test at its end.
            try:
                for page in context.pages:
                    watch.check_page(page)
            finally:
                self._closed_problems += watch.take_problems()
                if context in self._open:
                    self._open.remove(context)
                close(**close_options)

        context.new_page = checked_new_page
        context.close = checked_close
        self._open.append(context)
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def finish_test(self) -> None:
        """Close what the test left open (checking it) and fail with everything recorded."""
        while self._open:
            context = self._open[0]
            try:
                context.close()
            except PlaywrightError as error:
                self._closed_problems.append(f"Could not check a page before closing it: {error}")
                if context in self._open:
                    self._open.remove(context)
        problems, self._closed_problems = self._closed_problems, []
        raise_problems(problems)


def checked(page) -> None:
    """Check ``page`` now at both widths and fail with everything recorded in its context so far."""
    watch: ContextWatch = page.context._helpline_watch
    watch.check_page(page)
    raise_problems(watch.take_problems())


def visit(page, url: str, **goto_options):
    """``page.goto(url)``, then ``checked(page)``."""
    response = page.goto(url, **goto_options)
    checked(page)
    return response
