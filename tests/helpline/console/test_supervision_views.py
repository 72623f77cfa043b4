"""The supervisor console: waiting per line and alerts, the team, live conversations, read-along, reassigning."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from helpline.audit.models import AuditEvent
from helpline.models import Contact, Staff
from helpline.services.queue import presence_set
from tests.conftest import make_staff
from tests.helpline.console.conftest import child_writes, client_for, held_by

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_board_counts_waiting_per_line_and_flags_long_waits(chat_endpoint, other_endpoint, supervisor):
    line = chat_endpoint.line
    line.wait_alert_seconds = 120
    line.save(update_fields=["wait_alert_seconds"])
    old = child_writes(chat_endpoint, "waiting long")
    Contact.objects.filter(pk=old.pk).update(arrived_at=timezone.now() - timedelta(minutes=7))
    fresh = child_writes(chat_endpoint, "just arrived")
    child_writes(other_endpoint, "other line")  # not this supervisor's line

    html = client_for(supervisor).get("/supervisor/board/").content.decode()

    row = re.search(rf'<tr data-line-id="{line.pk}"[^>]*>.*?</tr>', html, re.S).group(0)
    assert 'class="overdue"' in row and '<td data-label="Waiting">2</td>' in row
    assert "7 min" in row and "over the limit" in row
    assert "Other line" not in html
    assert "1 contact has waited longer than the line" in html
    old_row = re.search(rf'<li class="queue-item[^"]*"\s+data-contact-id="{old.pk}"', html)
    fresh_row = re.search(rf'<li class="queue-item[^"]*"\s+data-contact-id="{fresh.pk}"', html)
    assert "overdue" in old_row.group(0) and "overdue" not in fresh_row.group(0)
    assert "waiting long" not in html and "just arrived" not in html


def test_team_shows_presence_and_load_and_a_supervisor_sets_someone_away(
    chat_endpoint, counsellor, supervisor, far_supervisor
):
    held_by(counsellor, child_writes(chat_endpoint, "hello"))
    client = client_for(supervisor)
    html = client.get("/supervisor/team/").content.decode()
    me = Staff.objects.get(user=counsellor)
    row = re.search(rf'<tr data-staff-id="{me.pk}">.*?</tr>', html, re.S).group(0)
    assert "Available" in row and "1/3" in row and "farsupervisor" not in html

    response = client.post(f"/supervisor/staff/{me.pk}/presence/", {"presence": "away"}, **HTMX)

    assert response.status_code == 200
    assert Staff.objects.get(pk=me.pk).presence == "away"
    assert AuditEvent.objects.filter(action="presence.set_by_supervisor", subject_username="counsellor").exists()
    far = Staff.objects.get(user=far_supervisor).pk
    assert client.post(f"/supervisor/staff/{far}/presence/", {"presence": "away"}, **HTMX).status_code == 404


def test_live_conversations_of_the_lines_with_read_along_and_reassign(
    chat_endpoint, other_endpoint, counsellor, colleague, supervisor
):
    mine = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    elsewhere = child_writes(other_endpoint, "not yours")
    html = client_for(supervisor).get("/supervisor/live/").content.decode()
    assert f'data-contact-id="{mine.pk}"' in html and f"/supervisor/c/{mine.pk}/" in html
    assert str(elsewhere.pk) not in html
    assert "hello" not in html  # no content in the lists


def test_reassign_a_live_and_a_waiting_contact(chat_endpoint, counsellor, colleague, supervisor):
    live = held_by(counsellor, child_writes(chat_endpoint, "one"))
    waiting = child_writes(chat_endpoint, "two")
    colleague_pk = Staff.objects.get(user=colleague).pk
    Staff.objects.filter(pk=colleague_pk).update(presence="available")  # offline asks first (test_working_consoles)
    client = client_for(supervisor)

    response = client.post(f"/supervisor/c/{live.pk}/assign/", {"to_staff": colleague_pk}, **HTMX)
    assert response.status_code == 200 and 'id="sup-live" ' in response.content.decode()
    response = client.post(f"/supervisor/c/{waiting.pk}/assign/", {"to_staff": colleague_pk}, **HTMX)
    assert response.status_code == 200

    assert Contact.objects.get(pk=live.pk).counsellor_id == colleague_pk
    waiting = Contact.objects.get(pk=waiting.pk)
    assert waiting.counsellor_id == colleague_pk and waiting.status == "active"
    assert AuditEvent.objects.filter(action="contact.assigned", actor_username="supervisor").count() == 2


def test_read_along_is_audited_and_invisible_to_the_counsellor(chat_endpoint, counsellor, supervisor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "please help"))
    counsellor_client = client_for(counsellor)
    before = counsellor_client.get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    client = client_for(supervisor)

    response = client.get(f"/supervisor/c/{contact.pk}/", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and "please help" in html and "Reading along" in html
    assert "reply-body" not in html and "/send/" not in html and "/risk/" not in html  # read only
    assert f'data-watch="{contact.pk}"' in html
    events = AuditEvent.objects.filter(action="contact.read_along", record_id=str(contact.pk))
    assert list(events.values_list("actor_username", flat=True)) == ["supervisor"]
    # Refreshes while reading along (new messages) are covered by that one event.
    client.get(f"/supervisor/c/{contact.pk}/live/", **HTMX)
    assert events.count() == 1
    # The counsellor's pane is exactly as it was: no mark of the supervisor anywhere.
    after = counsellor_client.get(f"/console/c/{contact.pk}/", **HTMX).content.decode()
    assert _without_tokens(after) == _without_tokens(before)
    assert "read along" not in after.lower() and "reading along" not in after.lower()


def test_read_along_as_a_full_page(chat_endpoint, counsellor, supervisor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "please help"))
    response = client_for(supervisor).get(f"/supervisor/c/{contact.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>Supervision</h1>" in html and "please help" in html


def test_a_supervisor_holding_a_conversation_works_in_the_console(chat_endpoint, supervisor):
    contact = child_writes(chat_endpoint, "hi")
    presence_set(staff=Staff.objects.get(user=supervisor), presence="available")
    client = client_for(supervisor)
    assert client.post(f"/console/take/{contact.pk}/", **HTMX).status_code == 200
    assert client.post(f"/console/c/{contact.pk}/send/", {"body": "Hello"}, **HTMX).status_code == 200


def test_supervisor_of_two_lines_sees_both(chat_endpoint, other_endpoint):
    both = make_staff("bothlines", "supervisor", line=chat_endpoint.line)
    Staff.objects.get(user=both).lines.add(other_endpoint.line)
    child_writes(chat_endpoint, "a")
    child_writes(other_endpoint, "b")
    html = client_for(both).get("/supervisor/board/").content.decode()
    assert "Demo line" in html and "Other line" in html
    assert len(re.findall(r'<li class="queue-item', html)) == 2


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"', "", html)
