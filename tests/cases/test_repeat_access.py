"""Repeat contacts as an access path: only a contact held by the one linking, of the same sender,
on the case's line, into a live case (cases.selectors.repeats); audited and shown on the case.

Each test is an attempt by the colleague (another counsellor of the line, who does not see the
counsellor's case) to reach that case.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cases.errors import CaseError
from cases.models import Case, CaseContact, CaseStatus
from cases.selectors import cases_visible_to
from cases.selectors.repeats import repeat_cases_offered
from cases.services.cases import case_contact_link, case_open, case_status_set
from cases.services.wrapups import wrapup_finalise, wrapup_open
from helpline.audit.models import AuditEvent
from helpline.models import Contact
from tests.cases.conftest import sextortion_values, staff_of, webchat_in_wrapup
from tests.conftest import make_staff
from tests.helpline.console.conftest import client_for

SENDER = "a" * 32
OTHER_SENDER = "b" * 32


@pytest.fixture
def earlier(counsellor, demo_line, taxonomy, regions):
    """The counsellor's case, opened from a web chat of SENDER."""
    contact = webchat_in_wrapup(counsellor, demo_line, token=SENDER)
    wrapup = wrapup_open(actor=staff_of(counsellor), contact=contact)
    wrapup_finalise(actor=staff_of(counsellor), wrapup=wrapup, values=sextortion_values())
    return case_open(actor=staff_of(counsellor), wrapup=wrapup)


def colleague_wrapup(colleague, line, token):
    contact = webchat_in_wrapup(colleague, line, body="it's me again", token=token)
    return wrapup_open(actor=staff_of(colleague), contact=contact)


def link_post(client, wrapup, case):
    """The pane's link button, posted with a case id (what a forged POST would send)."""
    return client.post(
        f"/cases/wrapup/{wrapup.contact_id}/link/", {"call_type": "data", "case": str(case.pk)}, HTTP_HX_REQUEST="true"
    )


def test_a_contact_of_the_same_sender_opens_the_case_audited_and_shown(earlier, counsellor, colleague, demo_line):
    second = colleague_wrapup(colleague, demo_line, SENDER)
    client = client_for(colleague)
    assert client.get(f"/cases/{earlier.pk}/").status_code == 404
    assert list(repeat_cases_offered(staff=staff_of(colleague), wrapup=second)) == [earlier]

    response = link_post(client, second, earlier)
    assert response.status_code == 200 and earlier.reference in response.content.decode()
    assert earlier in cases_visible_to(colleague)
    link = CaseContact.objects.get(case=earlier, wrapup=second)
    assert link.via_repeat and link.linked_by == staff_of(colleague)
    event = AuditEvent.objects.get(action="case.access_via_repeat_contact")
    assert event.actor_id == colleague.pk and event.record_id == str(earlier.pk)
    assert event.details["wrapup"] == str(second.pk) and event.details["channel"] == "webchat"

    page = client.get(f"/cases/{earlier.pk}/").content.decode()
    assert "You see this case because a contact you handled" in page
    assert "Reached through a repeat contact of the same sender" in page
    # Everyone who sees the case sees how the colleague came to it.
    owner_page = client_for(counsellor).get(f"/cases/{earlier.pk}/").content.decode()
    assert "Reached through a repeat contact of the same sender" in owner_page


def test_a_case_the_counsellor_already_sees_is_not_a_repeat_access(earlier, counsellor, demo_line):
    again = webchat_in_wrapup(counsellor, demo_line, token=SENDER)
    wrapup = wrapup_open(actor=staff_of(counsellor), contact=again)
    case_contact_link(actor=staff_of(counsellor), case=earlier, wrapup=wrapup)
    assert not CaseContact.objects.get(wrapup=wrapup).via_repeat
    assert not AuditEvent.objects.filter(action="case.access_via_repeat_contact").exists()


def test_another_senders_contact_gives_nothing(earlier, colleague, demo_line):
    other = colleague_wrapup(colleague, demo_line, OTHER_SENDER)
    assert list(repeat_cases_offered(staff=staff_of(colleague), wrapup=other)) == []
    with pytest.raises(PermissionDenied):
        case_contact_link(actor=staff_of(colleague), case=earlier, wrapup=other)
    # The forged POST: the case id typed in, and the reference.
    client = client_for(colleague)
    response = link_post(client, other, earlier)
    assert response.status_code == 422 and "No case you can link to" in response.content.decode()
    response = client.post(
        f"/cases/wrapup/{other.contact_id}/link/",
        {"call_type": "data", "reference": earlier.reference},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert earlier not in cases_visible_to(colleague)
    assert client.get(f"/cases/{earlier.pk}/").status_code == 404
    assert not CaseContact.objects.filter(case=earlier, wrapup=other).exists()


def test_a_closed_or_destroyed_case_is_not_reached(earlier, colleague, demo_line):
    case_status_set(actor=None, case=earlier, to_status=CaseStatus.PENDING_CLOSURE)
    case_status_set(actor=None, case=earlier, to_status=CaseStatus.CLOSED)
    second = colleague_wrapup(colleague, demo_line, SENDER)
    assert list(repeat_cases_offered(staff=staff_of(colleague), wrapup=second)) == []
    with pytest.raises(PermissionDenied):
        case_contact_link(actor=staff_of(colleague), case=earlier, wrapup=second)
    assert link_post(client_for(colleague), second, earlier).status_code == 422

    # Reopened, then destroyed by retention (as retention_run leaves it): still nothing.
    Case.objects.filter(pk=earlier.pk).update(status=CaseStatus.REOPENED, shredded_at=timezone.now())
    assert list(repeat_cases_offered(staff=staff_of(colleague), wrapup=second)) == []
    with pytest.raises((PermissionDenied, CaseError)):
        case_contact_link(actor=staff_of(colleague), case=earlier, wrapup=second)
    assert earlier not in cases_visible_to(colleague)


def test_a_contact_of_another_line_does_not_reach_this_lines_case(earlier, other_line, demo_line):
    both = make_staff("both-lines", "counsellor", line=demo_line)
    staff_of(both).lines.add(other_line)
    elsewhere = colleague_wrapup(both, other_line, SENDER)
    assert list(repeat_cases_offered(staff=staff_of(both), wrapup=elsewhere)) == []
    with pytest.raises(PermissionDenied):
        case_contact_link(actor=staff_of(both), case=earlier, wrapup=elsewhere)
    assert link_post(client_for(both), elsewhere, earlier).status_code == 422
    assert earlier not in cases_visible_to(both)


def test_a_contact_no_longer_held_gives_nothing(earlier, colleague, supervisor, demo_line):
    """Moved to someone else (a transfer): the wrap-up left behind is not a key to the case."""
    second = colleague_wrapup(colleague, demo_line, SENDER)
    Contact.objects.filter(pk=second.contact_id).update(counsellor=staff_of(supervisor))
    second.refresh_from_db()
    assert list(repeat_cases_offered(staff=staff_of(colleague), wrapup=second)) == []
    with pytest.raises(PermissionDenied):
        case_contact_link(actor=staff_of(colleague), case=earlier, wrapup=second)
    assert earlier not in cases_visible_to(colleague)


def test_guessing_the_case_id_with_someone_elses_contact_gives_nothing(earlier, counsellor, colleague, demo_line):
    """The counsellor's own live contact of the sender, posted by the colleague: not theirs, a 404."""
    mine = webchat_in_wrapup(counsellor, demo_line, token=SENDER)
    wrapup = wrapup_open(actor=staff_of(counsellor), contact=mine)
    response = client_for(colleague).post(
        f"/cases/wrapup/{wrapup.contact_id}/link/", {"call_type": "data", "case": str(earlier.pk)}
    )
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        case_contact_link(actor=staff_of(colleague), case=earlier, wrapup=wrapup)
    assert earlier not in cases_visible_to(colleague)
