"""Who may use each helpline URL (collected by tests/test_permission_matrix.py; see tests/permissions.py).

The rule (helpline.selectors): a counsellor sees and writes only the conversations they
hold; a supervisor sees every conversation of their lines (reading along is audited) but
writes only in those they hold; administrators, authority users and people without a role
see none. Anonymous users go to the login page, users with only a password to the code page.
The health check, the login page and the children's chat are public.
"""

import pytest

from helpline.models import Staff
from helpline.webchat.services import webchat_endpoint_ensure
from tests.helpline.console.conftest import child_writes, held_by
from tests.permissions import everyone, expect, redirect, signed_in

HELD_TEXT = "I am scared"
WAITING_TEXT = "is anyone there"
WORLD = ("matrix_held", "matrix_waiting")  # the counsellor holds one child (and is available), another waits


@pytest.fixture
def matrix_line(demo_line):
    """The slug of a line with a web chat."""
    webchat_endpoint_ensure(line=demo_line)
    return demo_line.slug


@pytest.fixture
def matrix_held(counsellor, matrix_line, demo_line, matrix_protected):
    """A conversation the counsellor holds; they are available."""
    matrix_protected.add(HELD_TEXT)
    return held_by(counsellor, child_writes(webchat_endpoint_ensure(line=demo_line), HELD_TEXT)).pk


@pytest.fixture
def matrix_waiting(matrix_line, demo_line, matrix_protected):
    """A child waiting in the queue of the line."""
    matrix_protected.add(WAITING_TEXT)
    return child_writes(webchat_endpoint_ensure(line=demo_line), WAITING_TEXT).pk


@pytest.fixture
def matrix_colleague(colleague):
    return Staff.objects.get(user=colleague).pk


@pytest.fixture
def matrix_supervisor(supervisor):
    return Staff.objects.get(user=supervisor).pk


# --- public pages and the login steps ------------------------------------------------------

expect("helpline:healthz", "get", "/healthz", outcomes=everyone(200))
expect("helpline:login", "get", "/login/", outcomes=everyone(200))
expect("helpline:webchat", "get", "/chat/{line}/", outcomes=everyone(200))
expect("helpline:webchat", "get", "/chat/no-such-line/", outcomes=everyone(404))
expect(
    "helpline:home",
    "get",
    "/",
    outcomes=signed_in(
        403,
        admin=redirect("/admin/"),
        authority=redirect("/authority/"),
        counsellor=redirect("/console/"),
        colleague=redirect("/console/"),
        supervisor=redirect("/supervisor/"),
        far_supervisor=redirect("/supervisor/"),
    ),
    htmx=False,
)
# The code steps answer a password alone (that is what they are for); the counsellor is enrolled.
expect(
    "helpline:two_factor",
    "get",
    "/2fa/",
    outcomes=signed_in(redirect("/"), password_only=redirect("/2fa/verify/")),
)
expect(
    "helpline:enrol",
    "get",
    "/2fa/enrol/",
    outcomes=signed_in(redirect("/2fa/verify/"), password_only=redirect("/2fa/verify/")),
)
expect("helpline:verify", "get", "/2fa/verify/", outcomes=signed_in(200, password_only=200))
expect("helpline:backup_codes", "get", "/2fa/backup-codes/", outcomes=signed_in(200))
expect("helpline:backup_codes", "post", "/2fa/backup-codes/", outcomes=signed_in(200))
expect(
    "helpline:logout", "post", "/logout/", outcomes=signed_in(redirect("/login/"), password_only=redirect("/login/"))
)
expect("helpline:logout", "get", "/logout/", outcomes=signed_in(405, password_only=405))

# --- the counsellor console ------------------------------------------------------------------

# Their own console for everyone in a console role; the colleague and the supervisors are offline.
CONSOLE = {"counsellor": 200, "colleague": 200, "supervisor": 200, "far_supervisor": 200}
# Only the counsellor holding the conversation; to everyone else of a console role it does not exist.
HELD = {"counsellor": 200, "colleague": 404, "supervisor": 404, "far_supervisor": 404}
# Taking a child needs being available: only the counsellor is.
TAKE = {"counsellor": 200, "colleague": 409, "supervisor": 409, "far_supervisor": 409}

for url_name, method, path, data, allowed in [
    ("console", "get", "/console/", None, CONSOLE),
    ("console_queue", "get", "/console/queue/", None, CONSOLE),
    ("console_mine", "get", "/console/mine/", None, CONSOLE),
    ("console_presence", "get", "/console/presence/", None, CONSOLE),
    ("console_presence", "post", "/console/presence/", {"presence": "busy"}, CONSOLE),
    ("console_take_next", "post", "/console/take/", None, TAKE),
    ("console_take", "post", "/console/take/{waiting}/", None, TAKE),
    ("console_conversation", "get", "/console/c/{held}/", None, HELD),
    ("console_live", "get", "/console/c/{held}/live/", None, HELD),
    ("console_send", "post", "/console/c/{held}/send/", {"body": "a reply"}, HELD),
    ("console_draft", "post", "/console/c/{held}/draft/", {"body": "half a reply"}, HELD),
    ("console_risk", "post", "/console/c/{held}/risk/", {"decision": "confirm"}, HELD),
    # Only for a confirmed sextortion risk: the holder is told why (409), nothing is sent.
    ("console_safety", "post", "/console/c/{held}/safety/", None, {**HELD, "counsellor": 409}),
    ("console_transfer", "post", "/console/c/{held}/transfer/", {"to_staff": "{supervisor}", "note": "over"}, HELD),
    ("console_end", "post", "/console/c/{held}/end/", None, HELD),
    ("console_close", "post", "/console/c/{held}/close/", None, {**HELD, "counsellor": 409}),  # active: end it first
]:
    expect(f"helpline:{url_name}", method, path, data=data, outcomes=signed_in(403, **allowed), uses=WORLD)

# --- the supervisor console ------------------------------------------------------------------

SUPERVISORS = {"supervisor": 200, "far_supervisor": 200}
# The supervisor of the line reads along and reassigns; for a supervisor of another line it does not exist.
THIS_LINE = {"supervisor": 200, "far_supervisor": 404}

for url_name, method, path, data, allowed in [
    ("supervisor", "get", "/supervisor/", None, SUPERVISORS),
    ("supervisor_board", "get", "/supervisor/board/", None, SUPERVISORS),
    ("supervisor_live", "get", "/supervisor/live/", None, SUPERVISORS),
    ("supervisor_alerts", "get", "/supervisor/alerts/", None, SUPERVISORS),
    ("supervisor_team", "get", "/supervisor/team/", None, SUPERVISORS),
    ("supervisor_read_along", "get", "/supervisor/c/{held}/", None, THIS_LINE),
    ("supervisor_read_along_live", "get", "/supervisor/c/{held}/live/", None, THIS_LINE),
    ("supervisor_assign", "post", "/supervisor/c/{held}/assign/", {"to_staff": "{colleague}"}, THIS_LINE),
    ("supervisor_presence", "post", "/supervisor/staff/{colleague}/presence/", {"presence": "away"}, THIS_LINE),
]:
    expect(f"helpline:{url_name}", method, path, data=data, outcomes=signed_in(403, **allowed), uses=WORLD)

# --- blocking senders (helpline.views.blocks) --------------------------------------------------


@pytest.fixture
def matrix_block(matrix_held, supervisor, matrix_protected):
    """A block the line's supervisor made from the held conversation."""
    from helpline.models import Contact
    from helpline.services.blocks import sender_block

    matrix_protected.add("Threats to the counsellor")
    contact = Contact.objects.get(pk=matrix_held)
    return sender_block(
        actor=Staff.objects.get(user=supervisor), contact=contact, reason="Threats to the counsellor"
    ).pk


for url_name, method, path, data, allowed in [
    ("supervisor_block", "get", "/supervisor/c/{held}/block/", None, THIS_LINE),
    (
        "supervisor_block",
        "post",
        "/supervisor/c/{held}/block/",
        {"reason": "abusive", "duration": "1d"},
        {"supervisor": redirect("/supervisor/blocks/"), "far_supervisor": 404},
    ),
    ("supervisor_blocks", "get", "/supervisor/blocks/", None, SUPERVISORS),
    (
        "supervisor_unblock",
        "post",
        "/supervisor/blocks/{block}/unblock/",
        {"reason": "apologised"},
        {"supervisor": redirect("/supervisor/blocks/"), "far_supervisor": 404},
    ),
]:
    expect(f"helpline:{url_name}", method, path, data=data, outcomes=signed_in(403, **allowed), uses=WORLD)

# --- sign-in lockouts (helpline.views.logins) ------------------------------------------------

# Every supervisor sees their own lines' colleagues; only the colleague's own supervisor unlocks them.
expect(
    "helpline:login_lockouts",
    "get",
    "/supervisor/sign-ins/",
    outcomes=signed_in(403, supervisor=200, far_supervisor=200),
)
expect(
    "helpline:login_unlock",
    "post",
    "/supervisor/sign-ins/{colleague}/unlock/",
    data={"reason": "Phoned me from the office"},
    outcomes=signed_in(403, supervisor=redirect("/supervisor/sign-ins/"), far_supervisor=404),
)
expect(
    "helpline:login_unlock",
    "post",
    "/supervisor/sign-ins/{colleague}/unlock/",
    data={"reason": ""},
    outcomes=signed_in(403, supervisor=422, far_supervisor=404),
)
expect(
    "helpline:login_unlock",
    "post",
    "/supervisor/sign-ins/{supervisor}/unlock/",
    data={"reason": "myself"},
    outcomes=signed_in(403, supervisor=404, far_supervisor=404),
)
