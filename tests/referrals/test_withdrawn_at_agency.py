"""A referral the helpline withdraws after sending it: the agency is told (a notice with no content) and
from then on sees its story but no longer what the helpline shared: not the document, not the helpline's
questions nor its answers, not the helpline's reason for withdrawing. What the agency wrote itself stays.
The same on the portal page and through the API."""

import pytest
from django.core import mail

from helpline.audit.models import AuditEvent
from referrals import actions
from referrals.models import AgencyNotice, NoticeKind, Referral
from referrals.notices import notice_attempt
from referrals.services import (
    referral_accept,
    referral_question_answer,
    referral_question_ask,
)
from referrals.services.referrals import referral_withdraw
from tests.conftest import login_verified
from tests.referrals.api.conftest import ApiClient, make_key
from tests.referrals.conftest import ANSWER, PERPETRATOR_HANDLE, QUESTION, SUMMARY
from tests.referrals.world import agency_user

pytestmark = pytest.mark.django_db

REASON = "Sent to the wrong unit: Amina asked us to wait"
AGENCY_NOTE = "Officer on duty took the call"
AGENCY_QUESTION = "Which county is the school in?"
AGENCY_ANSWER = "We have opened file 2231"


@pytest.fixture
def officer(sent):
    return agency_user("officer_a", sent.agency, email="officer_a@police.example")


@pytest.fixture
def conversation(sent, officer, counsellor):
    """Both sides asked and answered once, and the agency accepted with a note of its own."""
    referral_accept(agency=sent.agency, actor=officer, referral=sent, note=AGENCY_NOTE, via="portal")
    theirs = referral_question_ask(agency=sent.agency, actor=officer, referral=sent, text=AGENCY_QUESTION)
    referral_question_answer(actor=counsellor, question=theirs, text=ANSWER)
    ours = referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    referral_question_answer(agency=sent.agency, actor=officer, question=ours, text=AGENCY_ANSWER)
    return Referral.objects.get(pk=sent.pk)


def test_the_portal_page_keeps_the_story_and_drops_what_the_helpline_shared(client, conversation, officer, counsellor):
    login_verified(client, officer)
    before = client.get(f"/authority/referrals/{conversation.pk}/").content.decode()
    for text in (SUMMARY, PERPETRATOR_HANDLE, QUESTION, ANSWER):
        assert text in before, text

    referral_withdraw(actor=counsellor, referral=conversation, reason=REASON)
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    page = client.get(f"/authority/referrals/{conversation.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for gone in (SUMMARY, PERPETRATOR_HANDLE, QUESTION, ANSWER, REASON, "Amina"):
        assert gone not in text, gone
    for kept in (AGENCY_NOTE, AGENCY_QUESTION, AGENCY_ANSWER, conversation.case.reference, "Referral withdrawn"):
        assert kept in text, kept
    assert "please stop acting on it" in text
    assert 'name="text"' not in text  # nothing more to ask or answer
    read = AuditEvent.objects.get(pk__gt=last, action=actions.REFERRAL_SHARED_READ)
    assert read.details["fields"] == []  # still an audited read, of nothing shared


def test_the_api_gives_no_document_and_empties_what_the_helpline_wrote(conversation, counsellor):
    api = ApiClient(make_key(conversation.agency)[1])
    assert api.get(f"/api/v1/referrals/{conversation.pk}/").json()["document"] is not None

    referral_withdraw(actor=counsellor, referral=conversation, reason=REASON)
    response = api.get(f"/api/v1/referrals/{conversation.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["withdrawn"] is True and body["shredded"] is False
    assert body["document"] is None and body["referral"]["status"] == "withdrawn"
    questions = {item["side"]: item for item in body["questions"]}
    assert questions["agency"]["text"] == AGENCY_QUESTION and questions["agency"]["answer"] == ""
    assert questions["helpline"]["text"] == "" and questions["helpline"]["answer"] == AGENCY_ANSWER
    raw = response.content.decode()
    for gone in (SUMMARY, PERPETRATOR_HANDLE, QUESTION, ANSWER, REASON, "Amina"):
        assert gone not in raw, gone
    listed = api.get(f"/api/v1/referrals/{conversation.pk}/questions/").json()["questions"]
    assert {item["text"] for item in listed} == {AGENCY_QUESTION, ""}


def test_the_agency_is_told_once_without_content(sent, officer, counsellor):
    AgencyNotice.objects.all().delete()
    referral_withdraw(actor=counsellor, referral=sent, reason=REASON)
    notice = AgencyNotice.objects.get()
    assert notice.kind == NoticeKind.WITHDRAWN and notice.referral_id == sent.pk
    mail.outbox.clear()
    assert notice_attempt(notice_id=notice.pk) == "sent"
    [message] = mail.outbox
    assert message.to == ["officer_a@police.example"] and "withdrew" in message.subject
    assert f"/authority/referrals/{sent.pk}/" in message.body and "stop acting on it" in message.body
    for text in (REASON, "Amina", SUMMARY, PERPETRATOR_HANDLE, sent.case.reference):
        assert text not in message.subject + message.body, text


def test_a_referral_withdrawn_before_it_was_sent_tells_no_agency(plan, counsellor):
    proposed = plan["ke-police-nairobi"]
    agency_user("officer_a", proposed.agency, email="officer_a@police.example")
    assert proposed.sent_at is None
    AgencyNotice.objects.all().delete()
    referral_withdraw(actor=counsellor, referral=proposed, reason=REASON)
    assert not AgencyNotice.objects.exists()
