"""The pages as a counsellor uses them: the pane in the console, two clicks for a silent contact, the case page."""

import pytest

from cases.models import Case, ContactWrapup, WrapupStatus
from helpline.audit.models import AuditEvent
from helpline.models import Contact, ContactStatus
from tests.cases.conftest import staff_of, webchat_in_wrapup
from tests.helpline.console.conftest import client_for, sender_of

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ended(counsellor, demo_line, taxonomy, regions):
    return webchat_in_wrapup(counsellor, demo_line, token="d" * 32)


def test_the_console_shows_the_wrap_up_pane_with_the_lines_regions(counsellor, ended):
    response = client_for(counsellor).get(f"/console/c/{ended.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="pane-wrapup"' in page and "Nairobi" in page and "Sextortion" in page


def test_a_silent_contact_takes_two_clicks_and_leaves_the_console(counsellor, ended):
    client = client_for(counsellor)
    response = client.post(f"/cases/wrapup/{ended.pk}/finish/", {"call_type": "silent"}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == "/console/"
    assert Contact.objects.get(pk=ended.pk).status == ContactStatus.CLOSED
    assert ContactWrapup.objects.get(contact=ended).status == WrapupStatus.FINAL


def test_a_data_contact_without_its_facts_is_shown_back_with_the_reason(counsellor, ended):
    response = client_for(counsellor).post(f"/cases/wrapup/{ended.pk}/finish/", {"call_type": "data"}, **HTMX)
    assert response.status_code == 422
    assert "Choose who contacted the line." in response.content.decode()
    assert Contact.objects.get(pk=ended.pk).status == ContactStatus.WRAPUP


def test_the_draft_is_autosaved_and_comes_back(counsellor, ended):
    client = client_for(counsellor)
    response = client.post(f"/cases/wrapup/{ended.pk}/", {"summary": "She is frightened", "risk_level": "high"}, **HTMX)
    assert response.status_code == 200 and "Draft saved" in response.content.decode()
    page = client.get(f"/console/c/{ended.pk}/").content.decode()
    assert "She is frightened" in page


def test_a_repeat_sender_is_offered_their_earlier_case_without_the_number(counsellor, colleague, demo_line, ended):
    client = client_for(counsellor)
    values = {"call_type": "data", "caller_type": "child", "risk_level": "low"}
    values["categories"] = ["violence.ocsea.grooming"]
    client.post(f"/cases/wrapup/{ended.pk}/case/", values, **HTMX)
    client.post(f"/cases/wrapup/{ended.pk}/finish/", values, **HTMX)  # the conversation closes
    case = Case.objects.get()
    again = webchat_in_wrapup(colleague, demo_line, body="me again", token="d" * 32)
    other = client_for(colleague)
    page = other.get(f"/console/c/{again.pk}/").content.decode()
    assert "This sender contacted the line before" in page and case.reference in page
    assert sender_of(again) not in page
    response = other.post(f"/cases/wrapup/{again.pk}/link/", {"call_type": "data", "case": str(case.pk)}, **HTMX)
    assert response.status_code == 200 and f"Linked to case {case.reference}" in response.content.decode()
    assert case.contact_links.count() == 2


def test_the_case_page_audits_its_read_and_shows_notes(counsellor, ended):
    client = client_for(counsellor)
    client.post(f"/cases/wrapup/{ended.pk}/case/", {"call_type": "data"}, **HTMX)
    case = Case.objects.get()
    response = client.post(f"/cases/{case.pk}/notes/", {"body": "Called her back"})
    assert response.status_code == 302
    before = AuditEvent.objects.filter(action="case.read").count()
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Called her back" in page and case.reference in page
    assert AuditEvent.objects.filter(action="case.read", actor_id=counsellor.pk).count() == before + 1
    printed = client.get(f"/cases/{case.pk}/print/")
    assert printed.status_code == 200
    assert AuditEvent.objects.filter(action="case.printed", record_id=str(case.pk)).exists()


def test_a_correction_of_a_note_of_another_case_is_refused(counsellor, ended, demo_line):
    client = client_for(counsellor)
    client.post(f"/cases/wrapup/{ended.pk}/case/", {"call_type": "data"}, **HTMX)
    first = Case.objects.get()
    client.post(f"/cases/{first.pk}/notes/", {"body": "first case note"})
    other = webchat_in_wrapup(counsellor, demo_line, token="e" * 32)
    client.post(f"/cases/wrapup/{other.pk}/case/", {"call_type": "data"}, **HTMX)
    second = Case.objects.exclude(pk=first.pk).get()
    note = first.notes.get()
    response = client.post(f"/cases/{second.pk}/notes/", {"body": "sneaky", "corrects": str(note.pk)})
    assert response.status_code == 404
    assert not second.notes.exists()
    assert staff_of(counsellor)
