"""Item 5: every response that carries a conversation's content records that it was read.

The attacker is a member of staff (or a script with their session) who avoids the pages
that are known to be audited and calls the actions directly: sending a reply, deciding a
risk flag, ending, reading along by the live fragment. Each answer carries the history, so
each must leave a read event; refreshes within the same view and session are covered by one.
"""

import re

import pytest
from django.test import Client

from helpline.audit.models import AuditEvent
from helpline.models import ContactNote, Staff
from helpline.services.queue import contact_transfer
from helpline.services.twofactor import backup_codes_issue
from helpline.vault.services import seal
from tests.conftest import PASSWORD
from tests.helpline.console.conftest import child_writes, client_for, held_by
from tests.helpline.security.conftest import HTMX

pytestmark = pytest.mark.django_db

CHILD_WORDS = "I want to kill myself tonight"


def shown(response) -> str:
    """The text a person sees: the console marks risk words inside it (<mark>), so tags are dropped."""
    return re.sub(r"<[^>]+>", "", response.content.decode())


def reads(*, actor, contact, action="content.read"):
    return AuditEvent.objects.filter(action=action, actor_username=actor, record_id=str(contact.pk))


@pytest.fixture
def held(chat_endpoint, counsellor):
    return held_by(counsellor, child_writes(chat_endpoint, CHILD_WORDS))


def test_sending_a_reply_records_the_read_of_the_history_it_returns(held, counsellor):
    client = client_for(counsellor)  # never opened the conversation

    response = client.post(f"/console/c/{held.pk}/send/", {"body": "I am here with you."}, **HTMX)

    assert response.status_code == 200 and CHILD_WORDS in shown(response)
    assert reads(actor="counsellor", contact=held).count() == 1
    # A second reply in the same session and view is covered by that event...
    client.post(f"/console/c/{held.pk}/send/", {"body": "Are you safe right now?"}, **HTMX)
    assert reads(actor="counsellor", contact=held).count() == 1
    # ...another session is not.
    second_session(counsellor).post(f"/console/c/{held.pk}/send/", {"body": "Still here."}, **HTMX)
    assert reads(actor="counsellor", contact=held).count() == 2


def second_session(user) -> Client:
    """The same person logged in on another computer (a code works once, so with a backup code)."""
    client = Client()
    client.post("/login/", {"username": user.get_username(), "password": PASSWORD})
    assert client.post("/2fa/verify/", {"token": backup_codes_issue(user=user)[0]}).status_code == 302
    return client


def test_a_refused_reply_returns_only_what_was_typed(held, counsellor):
    response = client_for(counsellor).post(f"/console/c/{held.pk}/send/", {"body": ""}, **HTMX)
    assert response.status_code == 422 and CHILD_WORDS not in shown(response)


def test_deciding_a_risk_flag_records_the_read_of_the_history_it_returns(held, counsellor):
    response = client_for(counsellor).post(f"/console/c/{held.pk}/risk/", {"decision": "confirm"}, **HTMX)

    assert response.status_code == 200 and CHILD_WORDS in shown(response)
    assert reads(actor="counsellor", contact=held).count() == 1
    assert AuditEvent.objects.filter(action="risk.confirmed", record_id=str(held.pk)).exists()


def test_ending_records_the_read_of_the_pane_it_returns(held, counsellor):
    response = client_for(counsellor).post(f"/console/c/{held.pk}/end/", **HTMX)

    assert response.status_code == 200 and CHILD_WORDS in shown(response)
    assert reads(actor="counsellor", contact=held).count() == 1


def test_the_live_fragment_records_the_read_when_it_is_the_first(held, counsellor):
    response = client_for(counsellor).get(f"/console/c/{held.pk}/live/", **HTMX)
    assert CHILD_WORDS in shown(response)
    assert reads(actor="counsellor", contact=held).count() == 1


def test_handover_notes_are_read_on_the_record_by_the_one_they_are_for(held, counsellor, colleague):
    contact_transfer(
        actor=Staff.objects.get(user=counsellor), contact=held, to_staff=Staff.objects.get(user=colleague), note="x"
    )
    note = ContactNote.objects.select_related("contact__data_key").get(contact=held)
    seal(note, "body", "She is at her aunt's, the man knows her school")
    note.save()

    response = client_for(colleague).post(f"/console/c/{held.pk}/send/", {"body": "Hello, I am Sam."}, **HTMX)

    html = shown(response)
    assert "the man knows her school" in html and CHILD_WORDS in html
    assert reads(actor="colleague", contact=held).count() == 1


def test_transferring_returns_no_content_and_the_sender_reads_nothing_more(held, counsellor, colleague):
    to_staff = Staff.objects.get(user=colleague).pk
    client = client_for(counsellor)
    response = client.post(f"/console/c/{held.pk}/transfer/", {"to_staff": to_staff, "note": "handover"}, **HTMX)
    assert response.status_code == 200 and CHILD_WORDS not in shown(response)
    assert not reads(actor="counsellor", contact=held).exists()
    assert client.get(f"/console/c/{held.pk}/live/", **HTMX).status_code == 404


def test_the_read_along_fragment_records_the_read_when_it_is_the_first(held, supervisor):
    response = client_for(supervisor).get(f"/supervisor/c/{held.pk}/live/", **HTMX)

    assert response.status_code == 200 and CHILD_WORDS in shown(response)
    assert reads(actor="supervisor", contact=held, action="contact.read_along").count() == 1


def test_a_supervisor_of_another_line_reads_nothing_and_leaves_no_read(held, far_supervisor):
    client = client_for(far_supervisor)
    for path in (f"/supervisor/c/{held.pk}/", f"/supervisor/c/{held.pk}/live/"):
        response = client.get(path, **HTMX)
        assert response.status_code == 404 and CHILD_WORDS not in shown(response)
    assert not AuditEvent.objects.filter(actor_username="farsupervisor", record_id=str(held.pk)).exists()
