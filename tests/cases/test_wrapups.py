"""Wrap-up: drafts that survive anything, a finish that validates, two clicks for a non-data contact."""

import pytest
from django.core.exceptions import PermissionDenied

from cases.errors import CaseError
from cases.models import ContactWrapup, WrapupStatus
from cases.services.wrapups import WrapupValues, contact_log, wrapup_draft_save, wrapup_finalise
from helpline.models import ContactStatus
from helpline.vault.services import unseal
from tests.cases.conftest import sextortion_values, staff_of, webchat_in_wrapup


def test_ending_a_chat_opens_a_draft_prefilled_from_the_pre_chat_step(
    counsellor, demo_line, taxonomy, regions, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contact = webchat_in_wrapup(counsellor, demo_line)
    wrapup = ContactWrapup.objects.get(contact=contact)
    assert wrapup.status == WrapupStatus.DRAFT
    assert wrapup.age_band == "13-15" and wrapup.channel == "webchat"
    assert wrapup.data_key_id == contact.data_key_id
    assert wrapup.taxonomy_version == taxonomy


def test_a_draft_keeps_partial_values_and_a_sealed_summary(wrapup, counsellor):
    wrapup_draft_save(actor=staff_of(counsellor), wrapup=wrapup, values=WrapupValues(summary="half a thought"))
    stored = ContactWrapup.objects.select_related("data_key").get(pk=wrapup.pk)
    assert unseal(stored, "summary") == "half a thought"
    assert stored.status == WrapupStatus.DRAFT


def test_a_non_data_contact_finishes_with_only_its_call_type_and_closes_the_contact(wrapup, counsellor):
    wrapup_finalise(actor=staff_of(counsellor), wrapup=wrapup, values=WrapupValues(call_type="silent"))
    wrapup.refresh_from_db()
    assert wrapup.status == WrapupStatus.FINAL
    assert wrapup.contact.status == ContactStatus.CLOSED


@pytest.mark.parametrize(
    "change, message",
    [
        ({"call_type": ""}, "call type"),
        ({"caller_type": ""}, "who contacted"),
        ({"risk_level": ""}, "risk level"),
        ({"categories": []}, "at least one category"),
        ({"categories": ["violence.ocsea.made_up"]}, "Category"),
        ({"region": "FR-75"}, "Region"),
        ({"age": 9}, "age band"),
        ({"child_wants": ["revenge"]}, "child wants"),
    ],
)
def test_a_data_contact_needs_its_facts_to_finish(wrapup, counsellor, change, message):
    with pytest.raises(CaseError, match=message):
        wrapup_finalise(actor=staff_of(counsellor), wrapup=wrapup, values=sextortion_values(**change))
    wrapup.refresh_from_db()
    assert wrapup.status == WrapupStatus.DRAFT


def test_a_finished_wrap_up_no_longer_changes(wrapup, counsellor):
    wrapup_finalise(actor=staff_of(counsellor), wrapup=wrapup, values=sextortion_values())
    with pytest.raises(CaseError, match="finished"):
        wrapup_draft_save(actor=staff_of(counsellor), wrapup=wrapup, values=WrapupValues(summary="rewritten"))


def test_a_colleague_cannot_touch_someone_elses_wrap_up(wrapup, colleague, supervisor):
    for user in (colleague, supervisor):
        with pytest.raises(PermissionDenied):
            wrapup_draft_save(actor=staff_of(user), wrapup=wrapup, values=WrapupValues(summary="mine now"))


def test_a_phone_call_is_logged_by_hand_for_a_colleague(counsellor, colleague, demo_line, taxonomy, regions):
    wrapup = contact_log(
        actor=staff_of(counsellor),
        line=demo_line,
        channel="phone",
        counsellor=staff_of(colleague),
        caller_phone="+254712345678",
        values=sextortion_values(),
    )
    assert wrapup.contact is None and wrapup.channel == "phone"
    assert wrapup.counsellor == staff_of(colleague) and wrapup.recorded_by == staff_of(counsellor)
    assert wrapup.status == WrapupStatus.FINAL
    assert wrapup.caller_index and "712345678" not in wrapup.caller_index


def test_logging_by_hand_needs_an_offline_channel_and_a_colleague_of_the_line(
    counsellor, far_supervisor, demo_line, taxonomy, regions
):
    with pytest.raises(CaseError):
        contact_log(actor=staff_of(counsellor), line=demo_line, channel="sms", values=sextortion_values())
    with pytest.raises(CaseError):
        contact_log(
            actor=staff_of(counsellor),
            line=demo_line,
            channel="walk_in",
            counsellor=staff_of(far_supervisor),
            values=sextortion_values(),
        )
    with pytest.raises(PermissionDenied):
        contact_log(actor=staff_of(far_supervisor), line=demo_line, channel="letter", values=sextortion_values())
