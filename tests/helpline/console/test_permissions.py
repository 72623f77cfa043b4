"""Every console and supervision URL, tried by everyone: who gets the page, who is sent away, who is refused.

The rule (helpline.selectors): a counsellor sees and writes only the conversations
they hold; a supervisor sees every conversation of their lines (reading along is
audited) but writes only in those they hold; administrators, authority users and
people without a role see none. Anonymous users go to the login page, users with
only a password to the code page.
"""

import pytest

from helpline.audit.models import AuditEvent
from helpline.models import Contact, Draft, Message, Staff
from tests.helpline.console.conftest import client_for, password_only_client

pytestmark = pytest.mark.django_db

LOGIN, TWO_FACTOR = "login", "2fa"


def _staff_pk(world, name):
    return Staff.objects.get(user=getattr(world, name)).pk


# name: (method, path, data); {held}, {waiting} and {colleague} are filled from the world.
URLS = {
    "console": ("get", "/console/", None),
    "queue": ("get", "/console/queue/", None),
    "mine": ("get", "/console/mine/", None),
    "presence_get": ("get", "/console/presence/", None),
    "presence_set": ("post", "/console/presence/", {"presence": "busy"}),
    "take_next": ("post", "/console/take/", {}),
    "take_this": ("post", "/console/take/{waiting}/", {}),
    "pane": ("get", "/console/c/{held}/", None),
    "pane_live": ("get", "/console/c/{held}/live/", None),
    "send": ("post", "/console/c/{held}/send/", {"body": "a reply"}),
    "draft": ("post", "/console/c/{held}/draft/", {"body": "half a reply"}),
    "risk": ("post", "/console/c/{held}/risk/", {"decision": "confirm"}),
    "transfer": ("post", "/console/c/{held}/transfer/", {"to_staff": "{supervisor}", "note": "over to you"}),
    "end": ("post", "/console/c/{held}/end/", {}),
    "close": ("post", "/console/c/{held}/close/", {}),
    "supervisor": ("get", "/supervisor/", None),
    "board": ("get", "/supervisor/board/", None),
    "live": ("get", "/supervisor/live/", None),
    "team": ("get", "/supervisor/team/", None),
    "read_along": ("get", "/supervisor/c/{held}/", None),
    "read_along_live": ("get", "/supervisor/c/{held}/live/", None),
    "assign": ("post", "/supervisor/c/{held}/assign/", {"to_staff": "{colleague}"}),
    "set_away": ("post", "/supervisor/staff/{colleague}/presence/", {"presence": "away"}),
}
CONSOLE_PAGES = {"console", "queue", "mine", "presence_get", "presence_set"}
CONSOLE_CONTACT = {"pane", "pane_live", "send", "draft", "risk", "transfer", "end", "close"}
SUPERVISION = {"supervisor", "board", "live", "team", "read_along", "read_along_live", "assign", "set_away"}
SUPERVISION_PAGES = {"supervisor", "board", "live", "team"}
SUPERVISION_CONTACT = SUPERVISION - SUPERVISION_PAGES


def _everything(code):
    return dict.fromkeys(URLS, code)


EXPECTED = {
    "anonymous": _everything(LOGIN),
    "password_only": _everything(TWO_FACTOR),
    "outsider": _everything(403),
    "admin": _everything(403),
    "authority": _everything(403),
    # The counsellor holding the conversation (available, so they can also take the waiting child).
    "counsellor": {
        **dict.fromkeys(CONSOLE_PAGES | CONSOLE_CONTACT | {"take_next", "take_this"}, 200),
        "close": 409,  # still active: end it first
        **dict.fromkeys(SUPERVISION, 403),
    },
    # Another counsellor on the same line (offline): their own console, nothing of the held conversation.
    "colleague": {
        **dict.fromkeys(CONSOLE_PAGES, 200),
        "take_next": 409,
        "take_this": 409,
        **dict.fromkeys(CONSOLE_CONTACT, 404),
        **dict.fromkeys(SUPERVISION, 403),
    },
    # The supervisor of the line: reads along and reassigns, but writes only in conversations they hold.
    "supervisor": {
        **dict.fromkeys(CONSOLE_PAGES, 200),
        "take_next": 409,
        "take_this": 409,
        **dict.fromkeys(CONSOLE_CONTACT, 404),
        **dict.fromkeys(SUPERVISION, 200),
    },
    # A supervisor of another line: their own pages, nothing of this line.
    "far_supervisor": {
        **dict.fromkeys(CONSOLE_PAGES, 200),
        "take_next": 409,
        "take_this": 409,
        **dict.fromkeys(CONSOLE_CONTACT, 404),
        **dict.fromkeys(SUPERVISION_PAGES, 200),
        **dict.fromkeys(SUPERVISION_CONTACT, 404),
    },
}
CASES = [(actor, url) for actor in EXPECTED for url in URLS]


def _client(world, actor):
    from django.test import Client

    if actor == "anonymous":
        return Client()
    if actor == "password_only":
        return password_only_client(world.counsellor)
    user = {"far_supervisor": world.far_supervisor, "admin": world.admin}.get(actor) or getattr(world, actor)
    return client_for(user)


def _snapshot(world):
    contact = Contact.objects.get(pk=world.held.pk)
    return {
        "held": (contact.status, contact.counsellor_id, contact.risk_flag),
        "waiting": Contact.objects.get(pk=world.waiting.pk).status,
        "messages": Message.objects.count(),
        "drafts": Draft.objects.count(),
        "presence": dict(Staff.objects.values_list("user__username", "presence")),
    }


@pytest.mark.parametrize(("actor", "url_name"), CASES, ids=[f"{actor}-{url}" for actor, url in CASES])
def test_permission_matrix(world, actor, url_name):
    client = _client(world, actor)
    method, path, data = URLS[url_name]
    values = {
        "held": world.held.pk,
        "waiting": world.waiting.pk,
        "colleague": _staff_pk(world, "colleague"),
        "supervisor": _staff_pk(world, "supervisor"),
    }
    path = path.format(**values)
    if data:
        data = {key: value.format(**values) for key, value in data.items()}
    before = _snapshot(world)
    reads_before = AuditEvent.objects.filter(action__in=["content.read", "contact.read_along"]).count()

    response = getattr(client, method)(path, data or {}, HTTP_HX_REQUEST="true")

    expected = EXPECTED[actor][url_name]
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif expected == TWO_FACTOR:
        assert response.status_code == 302 and response["Location"].startswith("/2fa/")
    else:
        assert response.status_code == expected, response.content[:300]
    if expected not in (200,):
        # Refused means nothing changed and nothing was read.
        assert _snapshot(world) == before
        assert AuditEvent.objects.filter(action__in=["content.read", "contact.read_along"]).count() == reads_before
        assert b"I am scared" not in response.content
