"""Outbound messages through TwilioGateway, against a fake Twilio REST API on 127.0.0.1."""

import socket

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from helpline.models import Contact, Message
from helpline.services.inbound import message_receive
from helpline.services.outbound import message_deliver_attempt, message_send
from integrations.twilio.errors import error_for
from integrations.twilio.gateway import DEMO_ACCOUNT_SID, _rebase
from tests.fakes.http import Reply
from tests.integrations.twilio.conftest import (
    CHILD,
    MESSAGES_API,
    MESSAGES_PATH,
    SMS_NUMBER,
    STATUS_PATH,
    WHATSAPP_NUMBER,
    endpoint_create,
    inbound_params,
    new_sid,
    status_params,
    twilio_error,
)

REPLY = "You did the right thing by writing to us."


def run_worker():
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--interval", "0")


def opened_contact(endpoint) -> Contact:
    """A child's first message, with its automatic reply already out of the way."""
    contact = message_receive(endpoint=endpoint, sender=CHILD, body="hello", provider_id=new_sid()).contact
    Message.objects.filter(contact=contact, direction="out").update(status="sent", status_rank=3)
    DBTaskResult.objects.all().delete()
    return contact


@pytest.mark.django_db(transaction=True)
def test_inbound_to_reply_to_delivery_report_end_to_end(
    sms_endpoint, auth_token, twilio_post, fake_twilio, counsellor, settings
):
    # A child writes in; the waiting reply goes out through the worker and the REST API.
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 200
    run_worker()
    [auto] = fake_twilio.requests
    assert auto.path == f"/2010-04-01/Accounts/{sms_endpoint.provider_account}/Messages.json"
    assert auto.basic_auth == (sms_endpoint.provider_account, auth_token)
    assert auto.form["To"] == CHILD and auto.form["From"] == SMS_NUMBER
    assert "counsellor will answer" in auto.form["Body"]
    assert auto.form["StatusCallback"] == settings.PUBLIC_BASE_URL + STATUS_PATH

    # A counsellor answers.
    contact = Contact.objects.get()
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    run_worker()
    assert fake_twilio.requests[-1].form["Body"] == REPLY
    reply.refresh_from_db()
    assert reply.status == "sending" and reply.provider_id.startswith("SM") and reply.attempts == 1

    # Twilio reports delivery.
    params = status_params(sid=reply.provider_id, status="delivered")
    assert twilio_post(STATUS_PATH, params, token=auth_token).status_code == 200
    reply.refresh_from_db()
    assert reply.status == "delivered"


@pytest.mark.django_db
def test_whatsapp_addresses_are_prefixed(whatsapp_endpoint, fake_twilio, counsellor):
    contact = opened_contact(whatsapp_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)

    assert message_deliver_attempt(message_id=str(reply.pk)) == "sending"
    form = fake_twilio.requests[-1].form
    assert form["To"] == f"whatsapp:{CHILD}" and form["From"] == f"whatsapp:{WHATSAPP_NUMBER}"


@pytest.mark.django_db
def test_whatsapp_24_hour_window_fails_at_once_in_plain_words(whatsapp_endpoint, fake_twilio, counsellor):
    fake_twilio.answer_with(twilio_error("63016"))
    contact = opened_contact(whatsapp_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)

    assert message_deliver_attempt(message_id=str(reply.pk)) == "failed"
    reply.refresh_from_db()
    assert reply.error_code == "63016" and reply.attempts == 1
    assert reply.error_message == (
        "WhatsApp only allows replies within 24 hours of the child's last message. Ask them to write again, or use SMS."
    )


@pytest.mark.django_db
def test_invalid_number_is_permanent(sms_endpoint, fake_twilio, counsellor):
    fake_twilio.answer_with(twilio_error("21211"))
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    assert message_deliver_attempt(message_id=str(reply.pk)) == "failed"
    reply.refresh_from_db()
    assert "not a valid phone number" in reply.error_message


@pytest.mark.django_db
def test_refused_credentials_are_permanent(sms_endpoint, fake_twilio, counsellor):
    fake_twilio.answer_with(twilio_error("20003"))
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    assert message_deliver_attempt(message_id=str(reply.pk)) == "failed"
    reply.refresh_from_db()
    assert reply.error_code == "20003" and "Tell an administrator" in reply.error_message


@pytest.mark.django_db(transaction=True)
def test_server_errors_are_retried_then_fail_after_the_last_attempt(sms_endpoint, fake_twilio, counsellor, settings):
    settings.HELPLINE_SEND_MAX_ATTEMPTS = 3
    settings.HELPLINE_SEND_RETRY_SECONDS = 0
    fake_twilio.answer_with(Reply(500, "Internal Server Error"))
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)

    # The first attempt: a retry is queued, the message waits.
    assert message_deliver_attempt(message_id=str(reply.pk)) == "queued"
    reply.refresh_from_db()
    assert reply.status == "queued" and reply.attempts == 1
    assert "Trying again" in reply.error_message

    # The worker runs the queued task and its retries until the last attempt fails.
    run_worker()
    reply.refresh_from_db()
    assert reply.status == "failed" and reply.attempts == 3
    assert len(fake_twilio.requests) == 3
    assert reply.error_message == "Twilio is busy or unavailable. Trying again shortly."


@pytest.mark.django_db
def test_rate_limit_is_retried(sms_endpoint, fake_twilio, counsellor, settings):
    fake_twilio.answer_with(twilio_error("20429"))
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    assert message_deliver_attempt(message_id=str(reply.pk)) == "queued"
    reply.refresh_from_db()
    assert reply.error_code == "20429"


@pytest.mark.django_db
def test_a_connection_dropped_by_twilio_is_retried_and_then_goes_through(sms_endpoint, fake_twilio, counsellor):
    fake_twilio.server.fail_first(1, "POST", MESSAGES_API, Reply(drop=True))
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)

    assert message_deliver_attempt(message_id=str(reply.pk)) == "queued"
    assert Message.objects.get(pk=reply.pk).error_code == "network"
    Message.objects.filter(pk=reply.pk).update(next_attempt_at=None)  # its backoff has passed
    assert message_deliver_attempt(message_id=str(reply.pk)) == "sending"
    assert [request.form["Body"] for request in fake_twilio.requests] == [REPLY, REPLY]


@pytest.mark.django_db
def test_unreachable_twilio_is_retried(sms_endpoint, counsellor, settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)

    assert message_deliver_attempt(message_id=str(reply.pk)) == "queued"
    reply.refresh_from_db()
    assert reply.error_code == "network" and "Could not reach Twilio" in reply.error_message


@pytest.mark.django_db
def test_demo_endpoints_send_nothing(demo_line, fake_twilio, counsellor):
    endpoint = endpoint_create(demo_line, channel="sms", address=SMS_NUMBER, token="t", account=DEMO_ACCOUNT_SID)
    contact = opened_contact(endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    assert message_deliver_attempt(message_id=str(reply.pk)) == "sent"
    assert fake_twilio.requests == []


@pytest.mark.django_db
def test_endpoint_without_credentials_fails_permanently(demo_line, fake_twilio, counsellor):
    endpoint = endpoint_create(demo_line, channel="sms", address=SMS_NUMBER, token="")
    contact = opened_contact(endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    assert message_deliver_attempt(message_id=str(reply.pk)) == "failed"
    assert fake_twilio.requests == []


@pytest.mark.django_db
def test_a_non_loopback_api_base_url_fails_the_send_loudly(sms_endpoint, counsellor, settings):
    settings.TWILIO_API_BASE_URL = "https://twilio-proxy.example.org"
    contact = opened_contact(sms_endpoint)
    reply = message_send(contact=contact, body=REPLY, author=counsellor.staff)
    assert message_deliver_attempt(message_id=str(reply.pk)) == "failed"
    assert Message.objects.get(pk=reply.pk).error_code == "config"


def test_the_api_base_url_may_only_point_at_loopback():
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert _rebase(url, "") == url
    assert _rebase(url, "http://127.0.0.1:9000/") == "http://127.0.0.1:9000/2010-04-01/Accounts/AC1/Messages.json"
    with pytest.raises(ImproperlyConfigured):
        _rebase(url, "https://twilio-proxy.example.org")


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        (63016, 400, True),
        (21610, 400, True),
        (21211, 400, True),
        (20003, 401, True),
        (20429, 429, False),
        (63018, 429, False),
        (None, 503, False),
        (500, 500, False),
        (12345, 400, True),
        (None, 401, True),
    ],
)
def test_error_codes_map_to_permanent_or_retry(code, status, permanent):
    error = error_for(code=code, http_status=status)
    assert error.permanent is permanent
    assert error.reason and "+" not in error.reason
