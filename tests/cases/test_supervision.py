"""Supervision of caseloads: counts per counsellor, stale high-risk cases, reassignment, break glass."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from cases.models import BreakGlassAccess, Case, CaseStatus
from cases.selectors.access import cases_visible_to
from cases.selectors.supervision import caseloads, cases_high_risk_stale, supervision_timeline
from cases.services.approvals import case_close_request
from cases.services.supervision import SupervisionError, case_break_glass, case_reassign
from helpline.audit.models import AuditEvent
from tests.cases.supervision_world import case_make, staff_of
from tests.helpline.console.conftest import client_for

GLASS_REASON = "Child moved to our region tonight"


def test_caseloads_count_live_cases_per_counsellor_by_status_and_risk(
    demo_line, other_line, counsellor, colleague, supervisor, far_supervisor
):
    case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.OPEN, risk="high")
    case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.IN_PROGRESS, risk="low")
    case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.CLOSED, risk="imminent")
    case_make(line=demo_line, counsellor=colleague, status=CaseStatus.PENDING_CLOSURE, risk="imminent")
    case_make(line=other_line, counsellor=None, created_by=far_supervisor)
    rows = {row.staff.user.username if row.staff else None: row for row in caseloads(supervisor)}
    assert set(rows) == {"counsellor", "colleague"}
    assert rows["counsellor"].total == 2
    assert rows["counsellor"].high_risk == 1
    assert rows["counsellor"].by_status[CaseStatus.OPEN] == 1
    assert rows["colleague"].by_status[CaseStatus.PENDING_CLOSURE] == 1
    assert rows["colleague"].high_risk == 1
    assert [row.total for row in caseloads(far_supervisor)] == [1]


def test_high_risk_cases_without_a_recent_note_are_listed(demo_line, counsellor, supervisor, settings):
    settings.HELPLINE_HIGH_RISK_NOTE_HOURS = 24
    now = timezone.now()
    stale = case_make(line=demo_line, counsellor=counsellor, risk="high", last_note_at=now - timedelta(hours=30))
    never = case_make(line=demo_line, counsellor=counsellor, risk="imminent", created_at=now - timedelta(hours=25))
    case_make(line=demo_line, counsellor=counsellor, risk="high", last_note_at=now - timedelta(hours=2))
    case_make(line=demo_line, counsellor=counsellor, risk="medium", last_note_at=now - timedelta(days=9))
    case_make(line=demo_line, counsellor=counsellor, risk="high", status=CaseStatus.CLOSED)
    assert set(cases_high_risk_stale(supervisor)) == {stale, never}
    page = client_for(supervisor).get("/cases/supervision/")
    assert stale.reference.encode() in page.content and never.reference.encode() in page.content


def test_a_supervisor_reassigns_within_the_line_and_it_is_audited(demo_line, counsellor, colleague, supervisor):
    case = case_make(line=demo_line, counsellor=counsellor)
    case_reassign(actor=staff_of(supervisor), case=case, to_staff=staff_of(colleague))
    assert Case.objects.get(pk=case.pk).counsellor == staff_of(colleague)
    event = AuditEvent.objects.get(action="case.reassigned")
    assert (event.actor_id, event.subject_id) == (supervisor.pk, colleague.pk)
    # The new counsellor now reaches it, the old one no longer does.
    assert cases_visible_to(colleague).filter(pk=case.pk).exists()


def test_reassigning_to_someone_of_another_line_is_refused(demo_line, counsellor, supervisor, far_supervisor):
    case = case_make(line=demo_line, counsellor=counsellor)
    with pytest.raises(SupervisionError):
        case_reassign(actor=staff_of(supervisor), case=case, to_staff=staff_of(far_supervisor))
    assert Case.objects.get(pk=case.pk).counsellor == staff_of(counsellor)


def test_a_supervisor_of_another_line_cannot_reassign(demo_line, counsellor, colleague, far_supervisor):
    case = case_make(line=demo_line, counsellor=counsellor)
    with pytest.raises(Case.DoesNotExist):
        case_reassign(actor=staff_of(far_supervisor), case=case, to_staff=staff_of(colleague))


# --- break glass -----------------------------------------------------------------------


def test_break_glass_needs_a_reason_and_then_opens_the_case_for_a_while(demo_line, counsellor, far_supervisor):
    case = case_make(line=demo_line, counsellor=counsellor)
    assert not cases_visible_to(far_supervisor).filter(pk=case.pk).exists()
    with pytest.raises(SupervisionError):
        case_break_glass(actor=staff_of(far_supervisor), reference=case.reference, reason="   urgent ")
    assert not BreakGlassAccess.objects.exists()
    access = case_break_glass(actor=staff_of(far_supervisor), reference=case.reference, reason=GLASS_REASON)
    assert cases_visible_to(far_supervisor).filter(pk=case.pk).exists()
    event = AuditEvent.objects.get(action="case.break_glass")
    assert (event.actor_id, event.record_id, event.reason) == (far_supervisor.pk, str(case.pk), GLASS_REASON)
    # When the access runs out, so does the reach.
    BreakGlassAccess.objects.filter(pk=access.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not cases_visible_to(far_supervisor).filter(pk=case.pk).exists()


def test_break_glass_is_shown_on_the_case_timeline(demo_line, counsellor, far_supervisor):
    case = case_make(line=demo_line, counsellor=counsellor)
    case_break_glass(actor=staff_of(far_supervisor), reference=case.reference, reason=GLASS_REASON)
    [entry] = [entry for entry in supervision_timeline(case) if entry.kind == "break_glass"]
    assert (entry.actor, entry.detail) == ("farsupervisor", GLASS_REASON)


@pytest.mark.parametrize("who", ["counsellor", "colleague", "admin_user", "authority"])
def test_only_supervisors_break_glass(request, demo_line, counsellor, who):
    case = case_make(line=demo_line, counsellor=counsellor)
    with pytest.raises(Case.DoesNotExist):
        case_break_glass(actor=staff_of(request.getfixturevalue(who)), reference=case.reference, reason=GLASS_REASON)
    assert not BreakGlassAccess.objects.exists()


def test_an_unknown_reference_breaks_nothing(far_supervisor):
    with pytest.raises(Case.DoesNotExist):
        case_break_glass(actor=staff_of(far_supervisor), reference="HK7-3PQ9-X", reason=GLASS_REASON)
    assert not AuditEvent.objects.filter(action="case.break_glass").exists()


def test_break_glass_through_the_pages(demo_line, counsellor, far_supervisor):
    case = case_make(line=demo_line, counsellor=counsellor)
    client = client_for(far_supervisor)
    listing = client.get("/cases/", {"q": case.reference})
    assert b"break glass" in listing.content
    assert f'data-case-id="{case.pk}"'.encode() not in listing.content
    response = client.post("/cases/break-glass/", {"reference": case.reference, "reason": GLASS_REASON})
    assert response.status_code == 302 and response["Location"].startswith("/cases/")
    assert f'data-case-id="{case.pk}"'.encode() in client.get("/cases/", {"q": case.reference}).content


def test_a_supervisor_is_offered_break_glass_only_for_an_existing_reference(demo_line, counsellor, colleague):
    case = case_make(line=demo_line, counsellor=counsellor)
    listing = client_for(colleague).get("/cases/", {"q": case.reference})
    assert b"break glass" not in listing.content  # counsellors never learn that a reference exists


def render_actions(user, case) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load case_links %}{% case_supervision_actions case %}")
    return template.render(Context({"request": request, "case": case}))


def test_the_case_page_offers_closure_reassignment_and_shows_break_glass(
    demo_line, counsellor, supervisor, far_supervisor
):
    case = case_make(line=demo_line, counsellor=counsellor)
    mine = render_actions(counsellor, case)
    assert "Ask to close this case" in mine and "Reassign" not in mine
    assert "Reassign" in render_actions(supervisor, case)
    case_break_glass(actor=staff_of(far_supervisor), reference=case.reference, reason=GLASS_REASON)
    far = render_actions(far_supervisor, case)
    assert "break glass" in far and "Reassign" not in far


def test_the_case_page_says_when_closure_waits_and_who_may_decide(demo_line, counsellor, supervisor):
    case = case_make(line=demo_line, counsellor=counsellor)
    case_close_request(actor=staff_of(counsellor), case=case, reason="Safe now")
    case.refresh_from_db()
    assert "Decide it" in render_actions(supervisor, case)
    waiting = render_actions(counsellor, case)
    assert "waiting for a supervisor" in waiting and "Decide it" not in waiting
    assert "Ask to close" not in waiting
