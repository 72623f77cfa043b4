"""Twilio retries a webhook carrying a survey answer: the answer counts once and the survey moves on once.

A survey answer is not a Message, so the MessageSid constraint that drops a
retried message cannot drop it; the answer's SID is kept as an InboundReceipt.
"""

import threading

import pytest
import requests
from django.utils import timezone

from helpline.models import Contact, InboundReceipt, Message, SurveyResponse
from helpline.services.inbound import RECEIPT_KEEP, inbound_receipts_expire
from helpline.services.queue import contact_accept, contact_close, contact_end, presence_set
from helpline.vault.services import unseal
from tests.integrations.twilio.conftest import MESSAGES_PATH, inbound_params, signature_for

SURVEY = [
    {"id": "helped", "text": {"en": "Did this help?"}, "choices": ["yes", "a little", "no"]},
    {"id": "again", "text": {"en": "Would you write again?"}, "choices": ["yes", "no"]},
]


def ended_conversation(*, line, counsellor, first_message) -> Contact:
    """The child wrote (``first_message`` posts a signed webhook, returns its HTTP status), a counsellor
    took the conversation and ended it: the survey's first question is asked."""
    line.survey = SURVEY
    line.save()
    assert first_message() == 200
    presence_set(staff=counsellor.staff, presence="available")
    contact = contact_accept(staff=counsellor.staff)
    return contact_end(actor=counsellor.staff, contact=contact)


def questions_asked(contact) -> list[str]:
    automatic = Message.objects.filter(contact=contact, direction="out", automatic=True).order_by("created_at")
    return [unseal(message, "body").split(" (")[0] for message in automatic]


def conversation_unchanged(contact) -> bool:
    return not Message.objects.filter(direction="in").exclude(contact=contact).exists() and (
        Message.objects.filter(contact=contact, direction="in").count() == 1
    )


@pytest.mark.django_db
def test_a_retried_survey_answer_is_recorded_once_and_the_survey_advances_once(
    sms_endpoint, auth_token, twilio_post, counsellor, demo_line
):
    contact = ended_conversation(
        line=demo_line,
        counsellor=counsellor,
        first_message=lambda: twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code,
    )
    assert questions_asked(contact)[-1] == "Did this help?"

    answer = inbound_params(body="2")  # "a little"
    for _ in range(3):  # the answer, then two retries of the same webhook
        assert twilio_post(MESSAGES_PATH, answer, token=auth_token).status_code == 200

    # Without the receipt, a retried "2" would have answered the second question ("no").
    assert SurveyResponse.objects.get(contact=contact).answers == {"helped": "a little"}
    assert Contact.objects.get(pk=contact.pk).survey_step == 1
    assert questions_asked(contact).count("Would you write again?") == 1
    assert InboundReceipt.objects.filter(provider_id=answer["MessageSid"]).count() == 1

    last = inbound_params(body="1")  # "yes", the last question
    assert twilio_post(MESSAGES_PATH, last, token=auth_token).status_code == 200
    assert twilio_post(MESSAGES_PATH, last, token=auth_token).status_code == 200
    assert SurveyResponse.objects.get(contact=contact).answers == {"helped": "a little", "again": "yes"}
    assert questions_asked(contact).count("Thank you for your answers.") == 1
    # The survey is over: a retry now must not become the child's words in the conversation.
    assert conversation_unchanged(contact)

    # Nor open a new conversation once this one is closed.
    contact_close(actor=counsellor.staff, contact=Contact.objects.get(pk=contact.pk))
    assert twilio_post(MESSAGES_PATH, answer, token=auth_token).status_code == 200
    assert twilio_post(MESSAGES_PATH, last, token=auth_token).status_code == 200
    assert Contact.objects.count() == 1 and conversation_unchanged(contact)


@pytest.mark.django_db
def test_a_new_answer_with_its_own_sid_still_counts(sms_endpoint, auth_token, twilio_post, counsellor, demo_line):
    contact = ended_conversation(
        line=demo_line,
        counsellor=counsellor,
        first_message=lambda: twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code,
    )
    # The child sends "2" twice, as two messages (two SIDs): two answers, one per question.
    for _ in range(2):
        assert twilio_post(MESSAGES_PATH, inbound_params(body="2"), token=auth_token).status_code == 200
    assert SurveyResponse.objects.get(contact=contact).answers == {"helped": "a little", "again": "no"}


@pytest.mark.django_db
def test_old_receipts_expire(sms_endpoint, auth_token, twilio_post, counsellor, demo_line):
    contact = ended_conversation(
        line=demo_line,
        counsellor=counsellor,
        first_message=lambda: twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code,
    )
    assert twilio_post(MESSAGES_PATH, inbound_params(body="1"), token=auth_token).status_code == 200
    assert inbound_receipts_expire() == 0
    assert inbound_receipts_expire(now=timezone.now() + RECEIPT_KEEP + RECEIPT_KEEP / 100) == 1
    assert SurveyResponse.objects.get(contact=contact).answers == {"helped": "yes"}


THREADS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_of_one_answer_count_once(sms_endpoint, auth_token, counsellor, demo_line, uvicorn_server):
    """Twilio retrying while the first delivery is still running, against the app under uvicorn."""
    url = uvicorn_server["url"] + MESSAGES_PATH

    def signed_post(params) -> int:
        headers = {"X-Twilio-Signature": signature_for(auth_token, url, params)}
        return requests.post(url, data=params, headers=headers, timeout=30).status_code

    contact = ended_conversation(
        line=demo_line, counsellor=counsellor, first_message=lambda: signed_post(inbound_params())
    )
    answer = inbound_params(body="2")
    start = threading.Barrier(THREADS)
    statuses = []

    def retry():
        start.wait(timeout=30)
        statuses.append(signed_post(answer))

    threads = [threading.Thread(target=retry) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200] * THREADS
    assert SurveyResponse.objects.get(contact=contact).answers == {"helped": "a little"}
    assert Contact.objects.get(pk=contact.pk).survey_step == 1
    assert questions_asked(contact).count("Would you write again?") == 1
    assert conversation_unchanged(contact)
