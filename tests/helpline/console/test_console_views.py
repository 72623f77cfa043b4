"""The counsellor console: queue, taking, the conversation pane, replying, drafts, transfer, ending."""

import re

import pytest

from helpline.audit.models import AuditEvent
from helpline.models import CannedResponse, Contact, ContactNote, Draft, Message, Staff
from helpline.services.inbound import Media
from helpline.services.outbound import message_queue_automatic, message_send
from helpline.services.queue import contact_transfer
from tests.helpline.console.conftest import child_writes, client_for, held_by

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _order(html: str) -> list[str]:
    return re.findall(r'class="queue-item[^"]*" data-contact-id="([0-9a-f-]+)"', html)


def test_queue_orders_risk_first_then_longest_waiting_and_shows_no_content(chat_endpoint, counsellor):
    first = child_writes(chat_endpoint, "first child words", age_band="10-12")
    second = child_writes(chat_endpoint, "second child words", language="fr")
    urgent = child_writes(chat_endpoint, "I want to kill myself")

    html = client_for(counsellor).get("/console/queue/").content.decode()

    assert _order(html) == [str(urgent.pk), str(first.pk), str(second.pk)]
    urgent_row = html[html.index(str(urgent.pk)) - 200 : html.index(str(first.pk))]
    assert "risk-suggested" in urgent_row and "Risk words: please check" in urgent_row
    assert "age 10-12" in html and "Web chat" in html and ">FR<" in html
    assert "not one of your languages" in html  # the counsellor works in English only
    for words in ("first child words", "second child words", "kill myself"):
        assert words not in html


def test_take_next_opens_the_pane_and_audits_the_opening_once(chat_endpoint, counsellor):
    contact = child_writes(chat_endpoint, "can you help me")
    client = client_for(counsellor)
    assert client.post("/console/presence/", {"presence": "available"}, **HTMX).status_code == 200

    response = client.post("/console/take/", **HTMX)

    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/console/c/{contact.pk}/"
    html = response.content.decode()
    assert "can you help me" in html
    assert 'id="queue"' in html and 'hx-swap-oob="true"' in html  # the queue and my list update too
    assert Contact.objects.get(pk=contact.pk).counsellor.user == counsellor
    reads = AuditEvent.objects.filter(action="content.read", actor_username="counsellor", record_id=str(contact.pk))
    assert reads.count() == 1
    # New messages arriving while the pane is open are not each audited.
    child_writes(chat_endpoint, "are you there", token=_sender(contact))
    assert "are you there" in client.get(f"/console/c/{contact.pk}/live/", **HTMX).content.decode()
    assert reads.count() == 1


def test_taking_when_not_available_explains_why(chat_endpoint, counsellor):
    child_writes(chat_endpoint, "hello")
    response = client_for(counsellor).post("/console/take/", **HTMX)
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#console-alert"
    assert "Set yourself available" in response.content.decode()


def test_pane_shows_both_directions_status_automatic_media_and_failures(chat_endpoint, counsellor):
    contact = held_by(
        counsellor, child_writes(chat_endpoint, "my photo", media=[Media("image/jpeg", "https://x/1")] * 2)
    )
    staff = Staff.objects.get(user=counsellor)
    contact = Contact.objects.select_related("data_key").get(pk=contact.pk)
    message_queue_automatic(contact=contact, body="A counsellor will answer you soon.")
    failed = message_send(contact=contact, body="are you safe now?", author=staff)
    Message.objects.filter(pk=failed.pk).update(status="failed", error_message="The child has left the chat.")

    html = client_for(counsellor).get(f"/console/c/{contact.pk}/", **HTMX).content.decode()

    assert "my photo" in html and "2 attachments (not shown)" in html and "https://x/1" not in html
    assert "Automatic message" in html and "A counsellor will answer you soon." in html
    assert "are you safe now?" in html
    assert "Not delivered:" in html and "The child has left the chat." in html
    assert html.index("my photo") < html.index("are you safe now?")


def test_full_page_of_a_conversation_renders_without_htmx(chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello there"))
    response = client_for(counsellor).get(f"/console/c/{contact.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Counsellor console</h1>" in html and "hello there" in html
    assert 'src="/static/helpline/console.js"' in html
    assert "style=" not in html  # the CSP allows no inline styles


def test_reply_is_sent_and_the_box_cleared_empty_reply_refused(chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    client = client_for(counsellor)
    client.post(f"/console/c/{contact.pk}/draft/", {"body": "I am here"}, **HTMX)

    response = client.post(f"/console/c/{contact.pk}/send/", {"body": "I am here"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<textarea id="reply-body"[^>]*>\s*</textarea>', html)
    assert 'id="pane-live"' in html and "I am here" in html  # the history, out of band
    message = Message.objects.get(direction="out")
    assert message.status == "queued" and message.author.user == counsellor
    assert not Draft.objects.exists()

    refused = client.post(f"/console/c/{contact.pk}/send/", {"body": "   "}, **HTMX)
    assert refused.status_code == 422
    assert "An empty message cannot be sent." in refused.content.decode()
    assert Message.objects.filter(direction="out").count() == 1


def test_a_web_chat_reply_and_the_removal_of_its_draft_are_one_statement(chat_endpoint, counsellor, colleague):
    """The Send's write is one INSERT (no task, no transaction around it) that also removes the sender's draft,
    and only the sender's: a colleague's draft of the same conversation stays."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    client = client_for(counsellor)
    client.post(f"/console/c/{contact.pk}/draft/", {"body": "I am here"}, **HTMX)
    theirs = Draft.objects.create(contact=contact, staff=colleague.staff, body=Draft.objects.get().body)
    with CaptureQueriesContext(connection) as queries:
        assert client.post(f"/console/c/{contact.pk}/send/", {"body": "I am here"}).status_code == 302
    writes = [q["sql"] for q in queries if not q["sql"].startswith(("SELECT", "SAVEPOINT", "RELEASE"))]
    [write] = [sql for sql in writes if '"helpline_message"' in sql]
    assert write.startswith('WITH draft AS (DELETE FROM "helpline_draft"') and "INSERT INTO" in write
    assert not [sql for sql in writes if "django_tasks" in sql]
    assert list(Draft.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert Message.objects.filter(direction="out", status="queued").count() == 1


def test_draft_is_kept_server_side_and_restored_when_the_pane_loads(chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    client = client_for(counsellor)
    response = client.post(f"/console/c/{contact.pk}/draft/", {"body": "Thank you for telling me"}, **HTMX)
    assert response.status_code == 200 and "Draft saved." in response.content.decode()
    assert b"Thank you for telling me" not in Draft.objects.values_list("body", flat=True).get().envelope

    html = client.get(f"/console/c/{contact.pk}/", **HTMX).content.decode()

    assert re.search(r'<textarea id="reply-body"[^>]*>Thank you for telling me</textarea>', html)
    assert "Your unsent draft was restored." in html
    client.post(f"/console/c/{contact.pk}/draft/", {"body": ""}, **HTMX)
    assert not Draft.objects.exists()


def test_canned_responses_of_the_line_and_the_contacts_language(chat_endpoint, other_line, counsellor):
    CannedResponse.objects.create(line=chat_endpoint.line, language="fr", title="Bonjour", body="Bonjour, je suis là.")
    CannedResponse.objects.create(line=chat_endpoint.line, language="en", title="Hello", body="Hello, I'm here.")
    CannedResponse.objects.create(line=other_line, language="fr", title="Autre", body="Pas cette ligne.")
    Staff.objects.filter(user=counsellor).update(languages=["en", "fr"])
    contact = held_by(counsellor, child_writes(chat_endpoint, "salut", language="fr"))

    html = client_for(counsellor).get(f"/console/c/{contact.pk}/", **HTMX).content.decode()

    assert 'data-body="Bonjour, je suis là."' in html
    assert "Hello, I&#x27;m here." not in html and "Pas cette ligne." not in html


def test_transfer_hands_over_with_a_private_note_and_the_child_is_told_nothing(
    chat_endpoint, counsellor, colleague, supervisor
):
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    messages_before = Message.objects.count()
    client = client_for(counsellor)
    pane = client.get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    supervisor_pk = Staff.objects.get(user=supervisor).pk
    assert f'<option value="{supervisor_pk}">' in pane and "colleague" in pane

    response = client.post(
        f"/console/c/{contact.pk}/transfer/", {"to_staff": supervisor_pk, "note": "Needs a supervisor"}, **HTMX
    )

    assert response.status_code == 200 and "The conversation is now with supervisor." in response.content.decode()
    assert Message.objects.count() == messages_before  # nothing was sent to the child
    assert client.get(f"/console/c/{contact.pk}/", **HTMX).status_code == 404
    their_pane = client_for(supervisor).get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    assert "Handover notes for you" in their_pane and "Needs a supervisor" in their_pane
    # A note is for its recipient only: passed on again, the next person does not see it.
    contact_transfer(
        actor=Staff.objects.get(user=supervisor), contact=contact, to_staff=Staff.objects.get(user=colleague)
    )
    assert "Needs a supervisor" not in client_for(colleague).get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    assert ContactNote.objects.count() == 1


def test_transfer_only_to_people_of_the_line(chat_endpoint, counsellor, far_supervisor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    far = Staff.objects.get(user=far_supervisor).pk
    response = client_for(counsellor).post(f"/console/c/{contact.pk}/transfer/", {"to_staff": far}, **HTMX)
    assert response.status_code == 404
    assert Contact.objects.get(pk=contact.pk).counsellor.user == counsellor


def test_end_goes_to_wrap_up_then_close(chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "bye"))
    client = client_for(counsellor)

    html = client.post(f"/console/c/{contact.pk}/end/", **HTMX).content.decode()

    assert Contact.objects.get(pk=contact.pk).status == "wrapup"
    assert "Wrap-up" in html and ">Close</button>" in html and 'id="reply-body"' not in html
    refused = client.post(f"/console/c/{contact.pk}/send/", {"body": "one more"}, **HTMX)
    assert refused.status_code == 422 and not Message.objects.filter(direction="out").exists()

    closed = client.post(f"/console/c/{contact.pk}/close/", **HTMX)

    assert closed.status_code == 200 and "Conversation closed." in closed.content.decode()
    assert Contact.objects.get(pk=contact.pk).status == "closed"
    assert "You have no conversations." in client.get("/console/mine/").content.decode()


def test_risk_flag_confirm_and_clear(chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "he is here now"))
    client = client_for(counsellor)
    assert "Confirm risk" in client.get(f"/console/c/{contact.pk}/", **HTMX).content.decode()

    html = client.post(f"/console/c/{contact.pk}/risk/", {"decision": "confirm"}, **HTMX).content.decode()
    assert Contact.objects.get(pk=contact.pk).risk_flag == "confirmed" and "Risk confirmed." in html

    html = client.post(f"/console/c/{contact.pk}/risk/", {"decision": "clear"}, **HTMX).content.decode()
    assert Contact.objects.get(pk=contact.pk).risk_flag == "cleared" and "Risk flag cleared." in html
    assert set(AuditEvent.objects.filter(action__startswith="risk.").values_list("action", flat=True)) == {
        "risk.confirmed",
        "risk.cleared",
    }


def test_unread_counts_in_my_conversations_clear_when_opened(chat_endpoint, counsellor):
    first = held_by(counsellor, child_writes(chat_endpoint, "one"))
    second = held_by(counsellor, child_writes(chat_endpoint, "two"))
    child_writes(chat_endpoint, "two again", token=_sender(second))
    client = client_for(counsellor)

    html = client.get("/console/mine/").content.decode()
    assert _unread(html, second) == "2" and _unread(html, first) == "1"

    pane = client.get(f"/console/c/{second.pk}/", **HTMX).content.decode()
    assert _unread(pane, second) is None and _unread(pane, first) == "1"


def test_presence_switch(counsellor):
    client = client_for(counsellor)
    html = client.post("/console/presence/", {"presence": "busy"}, **HTMX).content.decode()
    assert Staff.objects.get(user=counsellor).presence == "busy"
    assert re.search(r'value="busy"[^>]*aria-pressed="true"', html)
    assert client.post("/console/presence/", {"presence": "asleep"}, **HTMX).status_code == 422


def test_another_counsellor_can_neither_read_nor_write(chat_endpoint, counsellor, colleague):
    contact = held_by(counsellor, child_writes(chat_endpoint, "secret words"))
    client = client_for(colleague)
    for path in (f"/console/c/{contact.pk}/", f"/console/c/{contact.pk}/live/"):
        response = client.get(path, **HTMX)
        assert response.status_code == 404 and b"secret words" not in response.content
    assert client.post(f"/console/c/{contact.pk}/send/", {"body": "hi"}, **HTMX).status_code == 404
    assert client.post(f"/console/c/{contact.pk}/draft/", {"body": "hi"}, **HTMX).status_code == 404
    assert not Message.objects.filter(direction="out").exists() and not Draft.objects.exists()
    assert "secret words" not in client.get("/console/").content.decode()


def _sender(contact) -> str:
    from tests.helpline.console.conftest import sender_of

    return sender_of(contact)


def _unread(html: str, contact) -> str | None:
    mine = re.search(r'<section id="mine".*?</section>', html, re.S).group(0)
    link = re.search(rf'data-contact-id="{contact.pk}".*?</a>', mine, re.S)
    assert link, "conversation missing from the list"
    badge = re.search(r'class="badge">(\d+)', link.group(0))
    return badge.group(1) if badge else None
