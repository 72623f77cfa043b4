"""`make screenshots`: every page of every role, at phone and desktop width, into docs/screenshots/.

Not a test (pytest collects it only when named, as the Makefile does): it drives the same Chromium
and ASGI server as the browser tests, on the suite's own test database, and writes one PNG per page
and width, then the gallery docs/SCREENSHOTS.md. The pages are not listed here:

- every GET the permission matrix (tests/permissions.py) lets a role have with a 200, its
  ``{parameters}`` filled by the matrix's own ``matrix_*`` fixtures (a page another helper adds,
  with its rule, appears on its own); fragments an htmx page loads are left out (no <html>);
- for the administrator, the admin's index and, for every model registered with the admin site,
  its list, its add form and the change form of its first row (where the administrator may);
- the states that matter: a conversation flagged at risk, the prepared-reply picker, read-along,
  the web chat during a conversation, the page of a user with no role yet.

A page that does not answer 200, answers a request of its own with a server error, or raises a
script error fails the run (after the gallery is written, with every failure listed). Screenshots
are of the viewport only, at a device scale of 1, and compressed with pngquant when it is installed.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect, sync_playwright

from helpline.demo_content import demo_content_ensure
from helpline.models import Presence, Staff
from helpline.services.inbound import message_receive
from helpline.services.queue import contact_accept, presence_set
from helpline.webchat.services import webchat_endpoint_ensure
from tests.browser.checks import DESKTOP, PHONE
from tests.browser.conftest import CHROMIUM, log_in
from tests.permissions import ACTOR_USERS, ANONYMOUS, rules

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("SCREENSHOTS_DIR", ROOT / "docs" / "screenshots"))
GALLERY = OUT.parent / "SCREENSHOTS.md"
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
# The roles shown, in the gallery's order: (matrix actor, heading). The matrix's other actors
# (a colleague, another line's supervisor, a password without the code) see these same pages.
ROLES = [
    (ANONYMOUS, "Before signing in"),
    ("counsellor", "Counsellor"),
    ("supervisor", "Supervisor"),
    ("authority", "Authority (an agency's staff)"),
    ("admin", "Administrator"),
    ("outsider", "Signed in without a role"),
]


@pytest.fixture(autouse=True)
def page_checks():
    """Not the browser tests' axe and CSP checks (tests/browser/test_every_page.py runs those)."""
    yield


@pytest.fixture
def matrix_protected():
    """What the matrix's fixtures add for its refusal checks (tests/test_permission_matrix.py); unused here."""
    return set()


@dataclass
class Shot:
    name: str  # file stem: <role>-<page>
    label: str  # what the gallery calls it
    path: str  # the address opened
    status: int = 200  # the status the page must answer
    state: object = None  # a function(page) that brings the page to the state shown, or None


@dataclass
class Run:
    shots: dict[str, list[Shot]] = field(default_factory=dict)  # role -> shots taken
    failures: list[str] = field(default_factory=list)
    written: set[str] = field(default_factory=set)


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "home"


# --- the pages, from the permission matrix and the admin registry ----------------------------


# Not pages: the health check (JSON, 503 on the test server, which runs no task worker).
NOT_PAGES = ("helpline:healthz",)


def _allowed(rule, actor):
    outcome = rule.outcomes.get(actor)
    return rule.method == "get" and rule.url_name not in NOT_PAGES and outcome is not None and outcome.status == 200


def matrix_pages(actor, request):
    """Every GET the matrix lets ``actor`` have (200), filled with the matrix's fixtures; a public
    page (the login, the web chat) only before signing in."""
    pages, names = [], set()
    for rule in rules():
        if not _allowed(rule, actor) or (actor != ANONYMOUS and _allowed(rule, ANONYMOUS)):
            continue
        values = {name: request.getfixturevalue(f"matrix_{name}") for name in rule.params}
        for fixture in rule.uses:
            request.getfixturevalue(fixture)
        path, data = rule.filled(values)
        if data:
            path = f"{path}{'&' if '?' in path else '?'}{urlencode(data)}"
        name = _slug(rule.path.replace("{", "").replace("}", ""))
        if name in names:
            continue
        names.add(name)
        pages.append(Shot(name=name, label=f"{rule.url_name} ({rule.path})", path=path))
    return pages


def admin_pages(user):
    """The admin's index, and each registered model's list, add form and first row's change form."""
    request = RequestFactory().get("/admin/")
    request.user = user
    pages = [Shot(name="index", label="admin:index (/admin/)", path=reverse("admin:index"))]
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        meta = model._meta
        if not model_admin.has_module_permission(request) or not model_admin.has_view_permission(request):
            continue
        base = f"admin:{meta.app_label}_{meta.model_name}"
        stem = f"{meta.app_label}-{meta.model_name}"
        title = f"{meta.verbose_name_plural} ({meta.app_label})"
        pages.append(Shot(name=f"{stem}-list", label=f"{title}: list", path=reverse(f"{base}_changelist")))
        if model_admin.has_add_permission(request):
            pages.append(Shot(name=f"{stem}-add", label=f"{title}: add", path=reverse(f"{base}_add")))
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None and model_admin.has_view_or_change_permission(request, first):
            try:
                path = reverse(f"{base}_change", args=[first.pk])
            except NoReverseMatch:
                continue
            pages.append(Shot(name=f"{stem}-change", label=f"{title}: change", path=path))
    return pages


# --- the world: the matrix's, plus conversations in the states that matter --------------------


def _world(demo_line, counsellor):
    demo_content_ensure(demo_line)
    demo_line.refresh_from_db()  # the service saved its own copy of the line
    endpoint = webchat_endpoint_ensure(line=demo_line)
    staff = Staff.objects.get(user=counsellor)
    staff.capacity = 6  # the matrix's conversation and these three
    staff.save(update_fields=["capacity"])
    presence_set(staff=staff, presence=Presence.AVAILABLE)
    held = []
    for index, body in enumerate(["Someone is threatening to share my photos", "I had a fight with my mum", "hello?"]):
        contact = message_receive(endpoint=endpoint, sender=f"s{index:031d}", body=body, language="en").contact
        held.append(contact_accept(staff=staff, contact_id=contact.pk))
    message_receive(endpoint=endpoint, sender="w" * 32, body="is anyone there", language="en")
    return held[0]


def _picker_open(page):
    expect(page.locator("#pane .msg-in")).to_have_count(1)
    # (A click would race the sticky reply box as Playwright scrolls; the handler is delegated.)
    page.locator("[data-open-picker]").dispatch_event("click")
    expect(page.locator("#canned-picker")).to_be_visible()


def _chat_started(page):
    page.locator("#prechat input[type=radio]").first.check()
    page.locator("#prechat button[type=submit]").click()
    expect(page.locator("#conversation")).to_be_visible()
    page.locator("#conversation textarea").fill("hello, is anyone there?")
    page.locator("#conversation button[type=submit]").click()
    expect(page.locator(".msg.in .state")).to_have_count(1)


def state_pages(role, risky, line_slug):
    """The states that matter, per role (added to the role's pages)."""
    if role == ANONYMOUS:
        return [
            Shot("webchat-conversation", "web chat: a conversation", f"/chat/{line_slug}/", state=_chat_started),
        ]
    if role == "counsellor":
        return [
            Shot("conversation-at-risk", "a conversation flagged at risk", f"/console/c/{risky}/"),
            Shot("prepared-replies", "the prepared-reply picker", f"/console/c/{risky}/", state=_picker_open),
        ]
    if role == "supervisor":
        return [Shot("read-along-at-risk", "read-along of a conversation at risk", f"/supervisor/c/{risky}/")]
    if role == "outsider":  # the matrix's refusal, a page of its own: "no role yet"
        return [Shot("no-role", "a password and a device, but no role yet (/)", "/", status=403)]
    return []


# --- taking them ------------------------------------------------------------------------------


def _context(browser, width, storage_state=None):
    # The phone is a phone: touch, no hover (keyboard hints hidden), as a counsellor's would be.
    phone = width == "phone"
    return browser.new_context(
        viewport=WIDTHS[width],
        device_scale_factor=1,
        is_mobile=phone,
        has_touch=phone,
        storage_state=storage_state,
    )


def _watch(page, base_url, problems):
    """Record the page's own requests that fail on our server, and its script errors."""

    def response(reply):
        if reply.url.startswith(base_url) and reply.status >= 500:
            problems.append(f"{reply.status} from {urlsplit(reply.url).path}")

    page.on("response", response)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))


def _take(pages, shot, base_url, role, run):
    """One page at each width; False when there is nothing to show (a fragment, not HTML, or failed)."""
    url = f"{base_url}{shot.path}"
    probe = pages["desktop"][0].context.request.get(url)  # the same session, before a browser opens a file
    if probe.status != shot.status:
        run.failures.append(f"{role} {shot.path}: {probe.status}")
        return False
    if "text/html" not in probe.headers.get("content-type", "") or "<html" not in probe.text()[:500].lower():
        return False  # an htmx fragment or a file, not a page
    for width, (page, problems) in pages.items():
        problems.clear()
        reply = page.goto(url)
        if reply is None or reply.status != shot.status:
            run.failures.append(f"{role} {shot.path} ({width}): {reply.status if reply else 'no answer'}")
            return False
        try:
            if shot.state is not None:
                shot.state(page)
            page.wait_for_load_state("networkidle", timeout=5000)
        except Exception as error:  # noqa: BLE001 - a state not reached is a failure of the run, named
            problems.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
        stem = f"{role_stem(role)}-{shot.name}"
        page.screenshot(path=str(OUT / f"{stem}-{width}.png"), animations="disabled", caret="hide")
        run.written.add(f"{stem}-{width}.png")
        run.failures.extend(f"{role} {shot.path} ({width}): {problem}" for problem in problems)
    return True


def role_stem(role):
    return "public" if role == ANONYMOUS else role


def _compress():
    if shutil.which("pngquant") is None:
        return
    files = sorted(str(path) for path in OUT.glob("*.png"))
    for start in range(0, len(files), 50):
        # Exit code 98/99: a file would not be smaller at that quality; it is kept as it is.
        subprocess.run(
            ["pngquant", "--force", "--skip-if-larger", "--strip", "--quality=65-90", "--ext", ".png", "--"]
            + files[start : start + 50],
            check=False,
        )


def _gallery(run):
    lines = [
        "# Screenshots",
        "",
        "<!-- Written by `make screenshots` (tests/browser/screenshots.py); do not edit by hand. -->",
        "",
        "Every page of every role at phone (390 px) and desktop (1366 px) width, as `make screenshots`",
        "renders them from the permission matrix (every page a role may open), the admin's registry and",
        "the states that matter. The data is the test suite's: made-up children, cases and agencies.",
        "How the consoles work: [CONSOLES.md](CONSOLES.md).",
        "",
    ]
    for role, heading in ROLES:
        shots = run.shots.get(role, [])
        if not shots:
            continue
        lines += [f"## {heading}", "", "| Page | Phone | Desktop |", "| --- | --- | --- |"]
        for shot in shots:
            stem = f"{role_stem(role)}-{shot.name}"
            cells = [
                f'<a href="screenshots/{stem}-{width}.png"><img src="screenshots/{stem}-{width}.png" '
                f'width="{120 if width == "phone" else 320}" alt="{shot.label}, {width}"></a>'
                for width in WIDTHS
            ]
            label = shot.label.replace("|", "\\|")
            lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
        lines.append("")
    GALLERY.write_text("\n".join(lines))


def test_screenshots(request, asgi_server, demo_line, counsellor):
    base_url = asgi_server["url"]
    risky = _world(demo_line, counsellor).pk
    plans = {}
    for role, _heading in ROLES:
        user = None if role == ANONYMOUS else request.getfixturevalue(ACTOR_USERS[role])
        shots = matrix_pages(role, request)
        if role == "admin":
            shots += admin_pages(user)
        plans[role] = (user, shots + state_pages(role, risky, demo_line.slug))

    OUT.mkdir(parents=True, exist_ok=True)
    run = Run()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for role, (user, shots) in plans.items():
            desktop = _context(browser, "desktop")
            if user is not None:
                log_in(desktop.new_page(), base_url, user, landing="/login/")
            phone = _context(browser, "phone", storage_state=desktop.storage_state())
            pages = {"phone": (phone.new_page(), []), "desktop": (desktop.new_page(), [])}
            for page, problems in pages.values():
                _watch(page, base_url, problems)
            taken = run.shots.setdefault(role, [])
            for shot in shots:
                if _take(pages, shot, base_url, role, run):
                    taken.append(shot)
            phone.close()
            desktop.close()
        browser.close()

    for stale in set(path.name for path in OUT.glob("*.png")) - run.written:
        (OUT / stale).unlink()
    _compress()
    _gallery(run)
    assert not run.failures, "Pages that failed:\n  " + "\n  ".join(run.failures)
