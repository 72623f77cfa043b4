"""Cases: opened from a wrap-up, linked, moved along the status machine, with people, notes and flags."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from cases.errors import CaseError
from cases.models import Case, CaseNote, CaseStatus
from cases.selectors import (
    case_facts,
    case_read,
    case_shareable_content,
    cases_visible_to,
    repeat_cases_for,
)
from cases.services.cases import case_contact_link, case_facts_update, case_open, case_status_change, case_status_set
from cases.services.flags import case_flag_raise, case_flag_remove
from cases.services.notes import case_note_add
from cases.services.people import case_person_add, case_person_remove, case_person_update
from cases.services.wrapups import wrapup_finalise, wrapup_open
from cases.signals import case_facts_changed
from helpline.audit.models import AuditEvent
from tests.cases.conftest import sextortion_values, staff_of, webchat_in_wrapup

CHILD_NAME = "Amani Wanjiru"
NOTE = "She is safe at her aunt's tonight"


@pytest.fixture
def case(wrapup, counsellor):
    wrapup_finalise(actor=staff_of(counsellor), wrapup=wrapup, values=sextortion_values())
    return case_open(actor=staff_of(counsellor), wrapup=wrapup)


def test_a_case_opened_from_a_wrap_up_takes_its_classification(case, wrapup):
    assert case.categories == ["violence.ocsea.sextortion"] and case.risk_level == "high"
    assert case.status == CaseStatus.OPEN and case.status_changes.get().to_status == "open"
    wrapup.refresh_from_db()
    assert wrapup.case == case
    assert AuditEvent.objects.filter(action="case.opened", record_id=str(case.pk)).exists()


def test_case_facts_follow_the_contract(case, counsellor):
    case_person_add(actor=staff_of(counsellor), case=case, role="child", age=14, gender="girl", name=CHILD_NAME)
    case_person_add(
        actor=staff_of(counsellor),
        case=case,
        role="alleged_perpetrator",
        relationship="stranger_online",
        age_band="18+",
        name="Mr X",
    )
    case_facts_update(actor=staff_of(counsellor), case=case, platform="Instagram", urls=["https://example.com/a"])
    facts = case_facts(case)
    json.dumps(facts)
    assert set(facts) == {
        "case_id",
        "line",
        "taxonomy_version",
        "channel",
        "channels",
        "categories",
        "risk_level",
        "caller_type",
        "age_band",
        "age",
        "gender",
        "region",
        "child_wants",
        "incident",
        "people",
        "perpetrator_is_caregiver",
    }
    assert facts["case_id"] == case.pk and facts["line"] == "demo" and facts["taxonomy_version"] == "chi-2026.1"
    assert facts["channel"] == "webchat" and facts["channels"] == ["webchat"]
    assert facts["categories"] == ["violence.ocsea.sextortion"] and facts["risk_level"] == "high"
    assert facts["caller_type"] == "child" and facts["age_band"] == "13-15" and facts["age"] == 14
    assert facts["gender"] == "girl" and facts["region"] == "KE-047" and facts["child_wants"] == ["talk", "report"]
    assert facts["incident"] == {
        "platform": "instagram",
        "urls_reported": True,
        "imagery_exists": False,
        "immediate_danger": False,
    }
    perpetrator = facts["people"][1]
    assert perpetrator["role"] == "alleged_perpetrator" and perpetrator["relationship"] == "stranger_online"
    assert perpetrator["age_band"] == "18+" and perpetrator["is_caregiver"] is False
    assert facts["perpetrator_is_caregiver"] is False
    assert CHILD_NAME not in json.dumps(facts) and "example.com" not in json.dumps(facts)


def test_facts_changed_is_announced_after_commit_only(wrapup, counsellor, django_capture_on_commit_callbacks):
    heard = []

    def receiver(**kwargs):
        heard.append((kwargs["case_id"], kwargs["actor_id"]))

    case_facts_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            case = case_open(actor=staff_of(counsellor), wrapup=wrapup)
            assert heard == []
        for callback in callbacks:
            callback()
        assert (case.pk, staff_of(counsellor).pk) in heard
        heard.clear()
        with django_capture_on_commit_callbacks(execute=True):
            case_facts_update(actor=staff_of(counsellor), case=case, risk_level="imminent")
        assert heard == [(case.pk, staff_of(counsellor).pk)]
        heard.clear()
        with django_capture_on_commit_callbacks(execute=True):
            case_note_add(actor=staff_of(counsellor), case=case, body=NOTE)
        assert heard == []  # a note is not a fact
    finally:
        case_facts_changed.disconnect(receiver)


def test_a_repeat_sender_is_offered_the_earlier_case_without_the_number(case, counsellor, colleague, demo_line, wrapup):
    token = "a" * 32
    first = webchat_in_wrapup(counsellor, demo_line, token=token)
    first_wrapup = wrapup_open(actor=staff_of(counsellor), contact=first)
    earlier = case_open(actor=staff_of(counsellor), wrapup=first_wrapup)
    wrapup_finalise(actor=staff_of(counsellor), wrapup=first_wrapup, values=sextortion_values())
    again = webchat_in_wrapup(colleague, demo_line, body="it's me again", token=token)
    second = wrapup_open(actor=staff_of(colleague), contact=again)
    assert list(repeat_cases_for(wrapup=second)) == [earlier]
    assert case not in repeat_cases_for(wrapup=second)
    assert earlier not in cases_visible_to(colleague)
    case_contact_link(actor=staff_of(colleague), case=earlier, wrapup=second)
    assert earlier in cases_visible_to(colleague)  # they handled a contact of it
    with pytest.raises(PermissionDenied):  # an unrelated case of another counsellor stays out of reach
        case_contact_link(actor=staff_of(colleague), case=case, wrapup=second)


def test_the_status_machine_refuses_skips_and_direct_closure(case, counsellor):
    staff = staff_of(counsellor)
    with pytest.raises(CaseError, match="approval"):
        case_status_change(actor=staff, case=case, to_status="closed")
    case_status_change(actor=staff, case=case, to_status="in_progress")
    with pytest.raises(CaseError):
        case_status_set(actor=staff, case=case, to_status="closed")
    case_status_set(actor=staff, case=case, to_status="pending_closure")
    case = case_status_set(actor=staff, case=case, to_status="closed", reason="Resolved with the family")
    assert case.closed_at is not None
    with pytest.raises(CaseError, match="why"):
        case_status_change(actor=staff, case=case, to_status="reopened")
    case = case_status_change(actor=staff, case=case, to_status="reopened", reason="She wrote again")
    assert case.closed_at is None
    assert [change.to_status for change in case.status_changes.order_by("created_at")] == [
        "open",
        "in_progress",
        "pending_closure",
        "closed",
        "reopened",
    ]


def test_a_correction_is_a_new_note_and_the_old_one_stays(case, counsellor):
    staff = staff_of(counsellor)
    first = case_note_add(actor=staff, case=case, body="She is at her uncle's")
    second = case_note_add(actor=staff, case=case, body=NOTE, corrects=first)
    content = case_read(user=counsellor, case=case)
    bodies = [item["body"] for item in content.notes]
    assert bodies == ["She is at her uncle's", NOTE]
    assert content.notes[0]["corrected_by"] == [second.pk]
    assert AuditEvent.objects.filter(action="case.note_corrected").exists()


def test_only_the_lines_supervisor_raises_and_removes_flags(case, counsellor, supervisor, far_supervisor):
    with pytest.raises(PermissionDenied):
        case_flag_raise(actor=staff_of(counsellor), case=case, message="Check this")
    with pytest.raises(PermissionDenied):
        case_flag_raise(actor=staff_of(far_supervisor), case=case, message="Check this")
    flag = case_flag_raise(actor=staff_of(supervisor), case=case, message="Call the child back today")
    with pytest.raises(PermissionDenied):
        case_flag_remove(actor=staff_of(counsellor), flag=flag)
    case_flag_remove(actor=staff_of(supervisor), flag=flag)
    flag.refresh_from_db()
    assert flag.removed_by == staff_of(supervisor) and flag.removed_at is not None
    content = case_read(user=supervisor, case=case)
    assert content.flags[0]["message"] == "Call the child back today"


def test_who_sees_which_case(case, counsellor, colleague, supervisor, far_supervisor, admin_user, authority):
    assert list(cases_visible_to(counsellor)) == [case]
    assert list(cases_visible_to(supervisor)) == [case]
    for user in (colleague, far_supervisor, admin_user, authority):
        assert not cases_visible_to(user).exists()
        with pytest.raises(PermissionDenied):
            case_read(user=user, case=case)
        with pytest.raises(PermissionDenied):
            case_shareable_content(case, ["child.name"], actor=user, purpose="referral")


def test_every_read_of_content_is_audited(case, counsellor):
    before = AuditEvent.objects.filter(action="case.read").count()
    case_read(user=counsellor, case=case, reason="Case page")
    case_read(user=counsellor, case=case, reason="Case page")
    assert AuditEvent.objects.filter(action="case.read", record_id=str(case.pk)).count() == before + 2


def test_shareable_content_unseals_exactly_what_is_asked(case, counsellor):
    staff = staff_of(counsellor)
    case_person_add(actor=staff, case=case, role="child", name=CHILD_NAME, phone="+254700000001", age=14)
    case_person_add(actor=staff, case=case, role="alleged_perpetrator", name="Mr X", online_identifiers="@mrx\n@mrx2")
    case_facts_update(actor=staff, case=case, summary="He asked for money", urls=["https://example.com/a"])
    content = case_shareable_content(case, ["child.age_band", "incident.urls"], actor=counsellor, purpose="hotline")
    assert content == {"child": {"age_band": "13-15"}, "incident": {"urls": ["https://example.com/a"]}}
    content = case_shareable_content(
        case, ["child.name", "perpetrator", "narrative"], actor=None, purpose="police referral"
    )
    assert content["child"] == {"name": CHILD_NAME}
    assert content["people"] == [
        {"role": "alleged_perpetrator", "name": "Mr X", "online_identifiers": ["@mrx", "@mrx2"]}
    ]
    assert content["narrative"] == "He asked for money"
    event = AuditEvent.objects.filter(action="case.content_unsealed_for_sharing").latest("id")
    assert event.details["fields"] == ["child.name", "narrative", "perpetrator"]
    assert event.reason == "police referral"
    with pytest.raises(ValueError, match="unknown.field"):
        case_shareable_content(case, ["unknown.field"], actor=None, purpose="x")


def test_a_database_copy_shows_no_note_name_or_summary(case, counsellor, supervisor, wrapup):
    staff = staff_of(counsellor)
    case_person_add(actor=staff, case=case, role="child", name=CHILD_NAME, location="Kibera, near the market")
    case_note_add(actor=staff, case=case, body=NOTE)
    case_facts_update(actor=staff, case=case, summary="He asked for money", urls=["https://example.com/secret"])
    case_flag_raise(actor=staff_of(supervisor), case=case, message="Urgent call")
    uncle = case_person_add(actor=staff, case=case, role="caregiver", name="Uncle Odhiambo")
    case_person_update(actor=staff, person=uncle, role="caregiver", name="Uncle Otieno Odhiambo", phone="0722 000111")
    case_person_remove(actor=staff, person=uncle, reason="Moved to his own case file")
    secrets = [CHILD_NAME, "Kibera", NOTE, "He asked for money", "example.com/secret", "Urgent call", "photos"]
    secrets += ["Odhiambo", "0722 000111", "own case file"]
    tables = [model._meta.db_table for model in (Case, CaseNote)] + [
        "cases_caseperson",
        "cases_caseincident",
        "cases_caseflag",
        "cases_casestatuschange",
        "cases_contactwrapup",
        "cases_casecontact",
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (our own table names)
            dump = repr(cursor.fetchall())
            for secret in secrets:
                assert secret not in dump, (table, secret)
                assert secret.encode() not in dump.encode()


def test_notes_cannot_be_written_on_a_case_out_of_reach(case, colleague, far_supervisor):
    for user in (colleague, far_supervisor):
        with pytest.raises(PermissionDenied):
            case_note_add(actor=staff_of(user), case=case, body="I was here")
    assert not CaseNote.objects.exists()
