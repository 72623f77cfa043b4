"""A dry run against a real case: the administrator sees its facts and which rules fire, never its content."""

import pytest

from cases.services.cases import case_facts_update, case_open
from cases.services.notes import case_note_add
from cases.services.people import case_person_add
from cases.services.wrapups import wrapup_finalise
from helpline.audit.models import AuditEvent
from referrals.sop.demo import DEMO_SOP
from tests.cases.conftest import sextortion_values, staff_of

pytestmark = pytest.mark.django_db

CHILD_NAME = "Amani Wanjiru"
PHONE = "+254700123456"
NOTE = "She is safe at her aunt's tonight"
SUMMARY = "A man she met online threatens to send her photos to her school"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def case(wrapup, counsellor):
    staff = staff_of(counsellor)
    wrapup_finalise(actor=staff, wrapup=wrapup, values=sextortion_values())
    case = case_open(actor=staff, wrapup=wrapup)
    case_person_add(actor=staff, case=case, role="child", age_band="13-15", age=14, name=CHILD_NAME, phone=PHONE)
    case_person_add(actor=staff, case=case, role="alleged_perpetrator", relationship="parent", is_caregiver=True)
    case_note_add(actor=staff, case=case, body=NOTE)
    case_facts_update(actor=staff, case=case, summary=SUMMARY, urls=["https://example.org/secret-album"])
    return case


def test_a_dry_run_by_case_reference_shows_facts_and_rules_never_content(case, admin_user, verified_client):
    client = verified_client(admin_user)
    response = client.post(
        "/sop/dry-run/",
        {"text": DEMO_SOP.read_text(), "line": "demo", "case": case.reference.lower().replace("-", " "), "facts": ""},
        headers=HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-rule="sextortion-high-risk"' in page and "2 of 5 rules fire." in page
    assert "caregiver-perpetrator" in page and "the alleged perpetrator is a caregiver" in page
    assert "violence.ocsea.sextortion" in page  # the facts are shown
    for secret in (CHILD_NAME, PHONE, NOTE, SUMMARY, "secret-album"):
        assert secret not in page
    event = AuditEvent.objects.get(action="sop.dry_run")
    assert (event.actor_username, event.record_id) == (admin_user.username, str(case.pk))
    assert not AuditEvent.objects.filter(action="content.read").exists()


def test_a_case_of_another_line_or_a_wrong_reference_is_not_found(case, admin_user, verified_client, other_line):
    client = verified_client(admin_user)
    for line, reference in (("other", case.reference), ("demo", "HK7-3PQ9-X"), ("demo", "not a reference")):
        page = client.post(
            "/sop/dry-run/", {"text": DEMO_SOP.read_text(), "line": line, "case": reference}, headers=HTMX
        ).content.decode()
        assert "This line has no case with that reference." in page
        assert "rules fire" not in page
    assert not AuditEvent.objects.filter(action="sop.dry_run").exists()
