"""Twilio may call back with a status before its answer to our send has been stored: the status is not lost.

The app runs under uvicorn; the fake Twilio REST API posts the signed status
callback to it, exactly as Twilio would, at the moment the test needs.
"""

import threading
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from helpline.models import Message, PendingStatus
from helpline.services.outbound import (
    PENDING_STATUS_KEEP,
    message_deliver_attempt,
    message_send,
    pending_statuses_expire,
)
from tests.fakes.http import Recorded
from tests.integrations.twilio.conftest import CHILD, STATUS_PATH, new_sid, signature_for, status_params, twilio_created
from tests.integrations.twilio.test_gateway import REPLY, opened_contact

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(uvicorn_server, settings):
    # The status callback URL the gateway gives Twilio is PUBLIC_BASE_URL + the path: the server's own.
    settings.PUBLIC_BASE_URL = uvicorn_server["url"]
    return uvicorn_server


def signed_post(url: str, params: dict, token: str) -> int:
    headers = {"X-Twilio-Signature": signature_for(token, url, params)}
    return requests.post(url, data=params, headers=headers, timeout=30).status_code


def twilio_calls_back(request: Recorded, *, sid: str, status: str, token: str, **extra) -> int:
    """Post Twilio's signed status callback for ``sid`` to the URL the send asked for; the HTTP status."""
    params = status_params(sid=sid, status=status, line_number=request.form["From"], to=request.form["To"], **extra)
    return signed_post(request.form["StatusCallback"], params, token)


def test_a_delivery_report_before_twilios_answer_is_applied_when_the_sid_is_stored(
    sms_endpoint, auth_token, fake_twilio, counsellor, server
):
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    sid = new_sid()
    callbacks, kept = [], []

    def deliver_then_answer(request):
        # Twilio delivers and calls back before its 201 reaches the worker.
        callbacks.append(twilio_calls_back(request, sid=sid, status="delivered", token=auth_token))
        kept.append(PendingStatus.objects.filter(provider_id=sid, status="delivered").exists())
        connection.close()  # this thread's own connection
        return twilio_created(request, sid=sid)

    fake_twilio.answer_with(deliver_then_answer)

    assert message_deliver_attempt(message_id=reply.pk) == "delivered"
    assert callbacks == [200] and kept == [True]  # the server kept it: no message had the SID yet
    reply.refresh_from_db()
    assert reply.provider_id == sid and reply.status == "delivered"
    assert not PendingStatus.objects.exists()

    # A late "sent" (Twilio does not promise order) cannot undo it.
    late = fake_twilio.requests[-1]
    assert twilio_calls_back(late, sid=sid, status="sent", token=auth_token) == 200
    assert Message.objects.get(pk=reply.pk).status == "delivered"


def test_a_failure_report_before_the_answer_shows_its_reason(sms_endpoint, auth_token, fake_twilio, counsellor, server):
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    sid = new_sid()

    def fail_then_answer(request):
        twilio_calls_back(request, sid=sid, status="undelivered", token=auth_token, ErrorCode="30003")
        return twilio_created(request, sid=sid)

    fake_twilio.answer_with(fail_then_answer)
    message_deliver_attempt(message_id=reply.pk)

    reply.refresh_from_db()
    assert reply.status == "undelivered" and reply.error_code == "30003"
    assert reply.error_message == "The phone is switched off or out of reach."


@pytest.mark.postgres
def test_callbacks_racing_the_stored_answer_are_never_lost(sms_endpoint, auth_token, fake_twilio, counsellor, server):
    """The callback and the worker's write of the SID at the same moment, in whatever order they happen to run."""
    contact = opened_contact(sms_endpoint)
    racing: list[threading.Thread] = []
    answers: list[int] = []

    def answer_while_calling_back(request):
        sid = new_sid()
        call = threading.Thread(
            target=lambda: answers.append(twilio_calls_back(request, sid=sid, status="delivered", token=auth_token))
        )
        call.start()
        racing.append(call)
        return twilio_created(request, sid=sid)

    fake_twilio.answer_with(answer_while_calling_back)
    replies = [message_send(contact=contact, body=f"{REPLY} {n}", author=counsellor.staff) for n in range(8)]
    for reply in replies:
        message_deliver_attempt(message_id=reply.pk)
    for call in racing:
        call.join(timeout=30)

    assert answers == [200] * len(replies)
    assert [Message.objects.get(pk=reply.pk).status for reply in replies] == ["delivered"] * len(replies)
    assert not PendingStatus.objects.exists()


def test_a_status_for_a_sid_that_never_lands_waits_then_expires(sms_endpoint, auth_token, server):
    params = status_params(sid=new_sid(), status="delivered", to=CHILD)

    assert signed_post(server["url"] + STATUS_PATH, params, auth_token) == 200  # answered: Twilio does not retry
    kept = PendingStatus.objects.get()
    assert kept.endpoint_id == sms_endpoint.pk and kept.status == "delivered"
    PendingStatus.objects.update(received_at=timezone.now() - PENDING_STATUS_KEEP - timedelta(seconds=1))
    assert pending_statuses_expire() == 1
