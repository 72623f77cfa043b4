"""What a counsellor with three live chats needs: aliases, first words and reply waits, risk marked and
escalated, a one-click safety message, prepared replies by category, presence that says the truth."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from helpline.audit.models import AuditEvent
from helpline.models import CannedResponse, Contact, Message, Staff
from helpline.risk import risk_phrase_spans
from helpline.selectors import READS_SESSION_KEY
from helpline.services.outbound import message_queue_automatic, message_send
from tests.helpline.console.conftest import child_writes, client_for, held_by

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _mine_order(html: str) -> list[str]:
    mine = html.split('id="mine"')[1].split("</section>")[0]
    return re.findall(r'data-contact-id="([0-9a-f-]+)"', mine)


def _anchor(html: str, contact) -> str:
    return re.search(rf'<a [^>]*data-contact-id="{contact.pk}"[^>]*>', html, re.S).group(0)


def test_every_contact_gets_a_short_alias_unique_among_the_open_ones_and_not_from_the_number(chat_endpoint):
    contacts = [child_writes(chat_endpoint, "hi", token=f"+25470000{index:04d}") for index in range(40)]
    aliases = [contact.alias for contact in contacts]
    assert all(re.fullmatch(r"C-\d{4,6}", alias) for alias in aliases)
    assert len(set(aliases)) == len(aliases)
    assert all(alias[2:] != f"{index:04d}" for index, alias in enumerate(aliases))


def test_alias_is_shown_in_the_queue_the_list_the_pane_and_to_the_supervisor(chat_endpoint, counsellor, supervisor):
    held = held_by(counsellor, child_writes(chat_endpoint, "I am scared"))
    waiting = child_writes(chat_endpoint, "hello?")
    mine, theirs = client_for(counsellor), client_for(supervisor)
    console = mine.get("/console/").content.decode()
    assert held.alias in console.split('id="mine"')[1].split("</section>")[0]
    assert waiting.alias in console.split('id="queue"')[1].split("</section>")[0]
    pane = mine.get(f"/console/c/{held.pk}/", **HTMX).content.decode()
    assert held.alias in pane.split('id="pane-heading"')[1].split("</h2>")[0]
    board = theirs.get("/supervisor/").content.decode()
    assert waiting.alias in board.split('id="sup-board"')[1] and held.alias in board.split('id="sup-live"')[1]
    read_along = theirs.get(f"/supervisor/c/{held.pk}/", **HTMX).content.decode()
    assert held.alias in read_along


def test_my_conversations_show_first_words_and_sort_by_longest_wait_for_a_reply(chat_endpoint, counsellor):
    line = chat_endpoint.line
    line.reply_amber_seconds, line.reply_red_seconds = 60, 180
    line.save()
    answered = held_by(counsellor, child_writes(chat_endpoint, "first child says hello there my friend how are you"))
    message_send(contact=answered, body="Hello, I'm here.", author=counsellor.staff)
    long_wait = held_by(counsellor, child_writes(chat_endpoint, "nobody answers me"))
    short_wait = held_by(counsellor, child_writes(chat_endpoint, "hi"))
    now = timezone.now()
    Message.objects.filter(contact=long_wait, direction="in").update(created_at=now - timedelta(minutes=4))
    Message.objects.filter(contact=short_wait, direction="in").update(created_at=now - timedelta(minutes=2))
    # An automatic reply is not an answer from a person.
    message_queue_automatic(contact=long_wait, body="A counsellor will answer soon.")

    html = client_for(counsellor).get("/console/mine/").content.decode()

    assert _mine_order(html) == [str(long_wait.pk), str(short_wait.pk), str(answered.pk)]
    assert "You:</span> Hello, I&#x27;m here." in html
    assert "wait-red" in _anchor(html, long_wait) and "wait-amber" in _anchor(html, short_wait)
    assert "waiting for a reply 4 min" in html and "nobody answers me" in html


def test_first_words_are_cut_and_reading_them_is_audited_once(chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "one two three four five six seven eight nine ten"))
    client = client_for(counsellor)
    client.session.pop(READS_SESSION_KEY, None)
    before = AuditEvent.objects.filter(action="content.read").count()
    first = client.get("/console/mine/").content.decode()
    client.get("/console/mine/")
    assert "one two three four five six seven eight…" in first and "nine" not in first
    events = AuditEvent.objects.filter(action="content.read").order_by("-pk")
    assert events.count() == before + 1
    assert events.first().record_id == str(contact.pk)


def test_risk_words_are_marked_where_they_matched_and_the_rest_is_escaped(chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "<b>I want to</b> KILL   myself... he is here now"))
    html = client_for(counsellor).get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    body = html.split('class="msg-body">')[1].split("</div>")[0]
    assert body == '&lt;b&gt;I want to&lt;/b&gt; KILL   myself... <mark class="risk-word">he is here now</mark>'
    assert "<b>" not in body
    assert '<mark class="risk-word">he is here now</mark>' in body


def test_risk_spans_fit_the_original_text_when_folding_changes_lengths(demo_line):
    demo_line.risk_phrases = {"de": ["strasse"], "en": ["kill myself"]}
    text = "Die Straße! Ich will mich... KILL MYSELF"
    spans = risk_phrase_spans(line=demo_line, text=text, language="de")
    assert [text[start:end] for start, end in spans] == ["Straße"]
    spans = risk_phrase_spans(line=demo_line, text="skill myselfish, kill myself", language="")
    assert spans == [(17, 28)]


def test_confirming_sextortion_offers_the_lines_safety_message_sent_with_one_click(chat_endpoint, counsellor):
    line = chat_endpoint.line
    line.safety_message = {"en": "Do not pay. It is not your fault."}
    line.save()
    contact = held_by(counsellor, child_writes(chat_endpoint, "he wants money or he shares my photos"))
    client = client_for(counsellor)
    pane = client.get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    assert 'value="sextortion"' in pane and "Send the safety message" not in pane
    # Not before the risk is confirmed as sextortion.
    assert client.post(f"/console/c/{contact.pk}/safety/", **HTMX).status_code == 409
    client.post(f"/console/c/{contact.pk}/risk/", {"decision": "sextortion"}, **HTMX)
    contact.refresh_from_db()
    assert (contact.risk_flag, contact.risk_kind) == ("confirmed", "sextortion")
    assert AuditEvent.objects.filter(action="risk.confirmed", details__kind="sextortion").exists()
    pane = client.get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    assert "Do not pay. It is not your fault." in pane and "Send the safety message" in pane
    assert client.post(f"/console/c/{contact.pk}/safety/", **HTMX).status_code == 200
    sent = Message.objects.get(contact=contact, direction="out")
    from helpline.vault.services import unseal

    assert unseal(sent, "body") == "Do not pay. It is not your fault." and sent.author == counsellor.staff


def test_without_a_safety_message_there_is_no_sextortion_button(chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    pane = client_for(counsellor).get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    assert 'value="sextortion"' not in pane


def test_prepared_replies_are_grouped_by_category_for_the_picker(chat_endpoint, counsellor):
    line = chat_endpoint.line
    CannedResponse.objects.create(line=line, language="en", category="Safety", title="Safe?", body="Are you safe?")
    CannedResponse.objects.create(line=line, language="en", category="Opening", title="Hello", body="Hi, I'm here.")
    CannedResponse.objects.create(line=line, language="en", category="Opening", title="Again", body="Still there?")
    CannedResponse.objects.create(line=line, language="fr", category="Opening", title="Salut", body="Salut.")
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    html = client_for(counsellor).get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    picker = html.split('id="canned-picker"')[1]
    groups = re.findall(r'class="picker-group-name" role="presentation">([^<]+)<', picker)
    assert groups == ["Opening", "Safety"]
    titles = re.findall(r'role="option"[^>]*>([^<]+)<', picker)
    assert titles == ["Again", "Hello", "Safe?"]  # the contact's language only


def test_a_counsellor_can_choose_offline_and_sees_it(counsellor):
    client = client_for(counsellor)
    html = client.post("/console/presence/", {"presence": "offline"}, **HTMX).content.decode()
    assert Staff.objects.get(user=counsellor).presence == "offline"
    assert "You are offline" in html
    assert 'value="offline"' in html and 'aria-pressed="true"' in html.split('value="offline"')[1].split(">")[0]


def test_reassigning_to_someone_offline_asks_first(chat_endpoint, counsellor, colleague, supervisor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    client = client_for(supervisor)
    colleague_staff = Staff.objects.get(user=colleague)
    response = client.post(f"/supervisor/c/{contact.pk}/assign/", {"to_staff": colleague_staff.pk}, **HTMX)
    assert response.status_code == 200 and response["HX-Retarget"] == "#console-alert"
    assert "colleague is offline." in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).counsellor.user == counsellor
    data = {"to_staff": colleague_staff.pk, "confirm": "yes"}
    client.post(f"/supervisor/c/{contact.pk}/assign/", data, **HTMX)
    assert Contact.objects.get(pk=contact.pk).counsellor.user == colleague


def test_demo_number_replies_say_they_were_not_sent(demo_line, counsellor):
    from helpline.demo import DEMO_PROVIDER_ACCOUNT
    from helpline.services.outbound import message_deliver_attempt
    from integrations.twilio.demo import demo_endpoints_ensure
    from integrations.twilio.gateway import DEMO_ACCOUNT_SID

    assert DEMO_PROVIDER_ACCOUNT == DEMO_ACCOUNT_SID
    sms, _whatsapp = demo_endpoints_ensure(demo_line)
    contact = held_by(counsellor, child_writes(sms, "hello", token="+15551230001"))
    message = message_send(contact=contact, body="Hello, I'm here.", author=counsellor.staff)
    assert message_deliver_attempt(message_id=str(message.pk)) == "sent"
    html = client_for(counsellor).get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    status = html.split('class="msg-status')[-1].split("</p>")[0]
    assert "Not sent: demo number" in status and ">Sent<" not in status
