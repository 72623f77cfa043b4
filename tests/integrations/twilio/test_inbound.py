"""Inbound SMS and WhatsApp webhooks: signed by Twilio's own RequestValidator, stored once, encrypted."""

import json
import socket

import pytest
from django.db import connection

from helpline.audit.models import AuditEvent
from helpline.models import BlockedSender, Contact, Message
from helpline.models.conversations import MAX_BODY_LENGTH
from helpline.services.inbound import sender_index_for
from helpline.vault.models import DataKey
from helpline.vault.services import unseal
from tests.integrations.twilio.conftest import (
    BODY,
    CHILD,
    MESSAGES_PATH,
    OTHER_CHILD,
    SECOND_BODY,
    WHATSAPP_NUMBER,
    inbound_params,
    new_sid,
    signature_for,
)

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'

pytestmark = pytest.mark.django_db


def stored_counts() -> dict:
    return {
        "messages": Message.objects.count(),
        "contacts": Contact.objects.count(),
        "data_keys": DataKey.objects.count(),
    }


def rejections() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="twilio.signature_rejected"))


def test_signed_message_is_stored_encrypted_in_a_new_waiting_contact(sms_endpoint, auth_token, twilio_post):
    response = twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content == EMPTY_TWIML
    contact = Contact.objects.get()
    assert contact.status == "waiting" and contact.channel == "sms" and contact.endpoint_id == sms_endpoint.pk
    message = contact.messages.get(direction="in")
    assert message.status == "received" and message.provider_id
    assert unseal(message, "body") == BODY
    assert unseal(contact, "sender") == CHILD
    # What the database holds is ciphertext: neither the words nor the number.
    with connection.cursor() as cursor:
        for table in ("helpline_message", "helpline_contact"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dump = repr(cursor.fetchall())
            assert BODY not in dump and "5557654321" not in dump
    # The neutral waiting reply is queued for the background worker, not put into the TwiML.
    reply = contact.messages.get(direction="out")
    assert reply.automatic and reply.status == "queued"


def test_a_second_message_joins_the_open_contact(sms_endpoint, auth_token, twilio_post):
    twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token)
    response = twilio_post(MESSAGES_PATH, inbound_params(body=SECOND_BODY), token=auth_token)

    assert response.status_code == 200
    contact = Contact.objects.get()
    bodies = [unseal(message, "body") for message in contact.messages.filter(direction="in")]
    assert bodies == [BODY, SECOND_BODY]
    assert contact.messages.filter(direction="out").count() == 1  # one waiting reply, not two


def test_different_senders_get_separate_contacts(sms_endpoint, auth_token, twilio_post):
    twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token)
    twilio_post(MESSAGES_PATH, inbound_params(sender=OTHER_CHILD), token=auth_token)
    assert Contact.objects.count() == 2


def test_unsigned_request_is_refused_audited_and_nothing_stored(sms_endpoint, auth_token, twilio_post):
    before = stored_counts()
    response = twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token, signature="")

    assert response.status_code == 403
    assert stored_counts() == before
    [event] = rejections()
    assert event.record_id == str(sms_endpoint.pk)
    assert event.details["problem"] == "missing" and event.details["webhook"] == "message"
    recorded = json.dumps(event.details) + event.reason
    assert "5557654321" not in recorded and BODY not in recorded


def test_tampered_body_is_refused(sms_endpoint, auth_token, client, settings):
    params = inbound_params()
    signature = signature_for(auth_token, settings.PUBLIC_BASE_URL + MESSAGES_PATH, params)
    params["Body"] = "something else"

    response = client.post(MESSAGES_PATH, params, headers={"X-Twilio-Signature": signature})

    assert response.status_code == 403
    assert Message.objects.count() == 0
    assert rejections()[0].details["problem"] == "mismatch"


def test_signature_for_another_url_is_refused(sms_endpoint, auth_token, twilio_post):
    response = twilio_post(
        MESSAGES_PATH,
        inbound_params(),
        token=auth_token,
        signed_url="https://attacker.example/integrations/twilio/messages/",
    )
    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_signature_with_another_token_is_refused(sms_endpoint, twilio_post):
    response = twilio_post(MESSAGES_PATH, inbound_params(), token="not-the-endpoint-token")
    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_repeated_forgeries_are_audited_once_per_window_and_all_refused(sms_endpoint, twilio_post):
    for _ in range(5):
        response = twilio_post(MESSAGES_PATH, inbound_params(), token="forged")
        assert response.status_code == 403
    assert len(rejections()) == 1
    assert Message.objects.count() == 0


def test_https_public_url_behind_a_proxy_is_what_gets_checked(sms_endpoint, auth_token, twilio_post, settings):
    # Twilio signs the public https URL; the app itself is reached over plain http by the proxy.
    settings.PUBLIC_BASE_URL = "https://helpline.example.org"
    response = twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token)
    assert response.status_code == 200

    # The http URL the proxy used is not what Twilio signed.
    response = twilio_post(
        MESSAGES_PATH, inbound_params(), token=auth_token, signed_url="http://testserver" + MESSAGES_PATH
    )
    assert response.status_code == 403
    assert Message.objects.filter(direction="in").count() == 1


def test_query_string_is_part_of_the_signed_url(sms_endpoint, auth_token, twilio_post, settings):
    response = twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token, query="line=demo")
    assert response.status_code == 200
    response = twilio_post(
        MESSAGES_PATH,
        inbound_params(),
        token=auth_token,
        query="line=demo",
        signed_url=settings.PUBLIC_BASE_URL + MESSAGES_PATH,
    )
    assert response.status_code == 403


def test_a_retried_message_sid_is_stored_once_and_still_answered(sms_endpoint, auth_token, twilio_post):
    params = inbound_params()
    first = twilio_post(MESSAGES_PATH, params, token=auth_token)
    again = twilio_post(MESSAGES_PATH, params, token=auth_token)

    assert first.status_code == again.status_code == 200
    assert again.content == EMPTY_TWIML
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == 1


def test_whatsapp_message_opens_a_whatsapp_contact_with_the_plain_number(whatsapp_endpoint, auth_token, twilio_post):
    response = twilio_post(MESSAGES_PATH, inbound_params(to=WHATSAPP_NUMBER, whatsapp=True), token=auth_token)

    assert response.status_code == 200
    contact = Contact.objects.get()
    assert contact.channel == "whatsapp" and contact.endpoint_id == whatsapp_endpoint.pk
    # Stored without the "whatsapp:" prefix: the gateway adds it back, and the
    # blind index matches the same child writing by SMS.
    assert unseal(contact, "sender") == CHILD
    assert contact.sender_index == sender_index_for(channel="sms", address=CHILD)


def test_whatsapp_number_does_not_match_the_sms_endpoint(sms_endpoint, auth_token, twilio_post):
    response = twilio_post(MESSAGES_PATH, inbound_params(whatsapp=True), token=auth_token)
    assert response.status_code == 404


def test_whatsapp_to_with_an_sms_sender_is_malformed(whatsapp_endpoint, auth_token, twilio_post):
    params = inbound_params(to=WHATSAPP_NUMBER, whatsapp=True, From=CHILD)
    response = twilio_post(MESSAGES_PATH, params, token=auth_token)
    assert response.status_code == 400
    assert Message.objects.count() == 0


@pytest.fixture
def media_host():
    """A listening socket standing in for Twilio's media store: any fetch would show up as a connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    yield listener
    listener.close()


def test_media_are_recorded_and_never_fetched(sms_endpoint, auth_token, twilio_post, media_host):
    port = media_host.getsockname()[1]
    urls = [f"https://127.0.0.1:{port}/Media/ME{n}" for n in range(2)]
    params = inbound_params(
        body="",
        NumMedia="2",
        MediaContentType0="image/jpeg",
        MediaUrl0=urls[0],
        MediaContentType1="video/mp4",
        MediaUrl1=urls[1],
    )
    response = twilio_post(MESSAGES_PATH, params, token=auth_token)

    assert response.status_code == 200
    message = Message.objects.get(direction="in")
    assert message.media_count == 2 and message.media_types == ["image/jpeg", "video/mp4"]
    assert json.loads(unseal(message, "media_urls")) == urls
    with pytest.raises(BlockingIOError):
        media_host.accept()  # nobody connected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"From": None}, b"From is missing"),
        ({"From": ""}, b"From is missing"),
        ({"MessageSid": None}, b"MessageSid is missing"),
        ({"MessageSid": "SM123"}, b"MessageSid is not"),
        ({"From": "not a number"}, b"From is not a phone number"),
        ({"From": "+1555"}, b"From is not a phone number"),
        ({"Body": "x" * (MAX_BODY_LENGTH + 1)}, b"Body is longer than"),
        ({"NumMedia": "two"}, b"NumMedia is not a number"),
        ({"NumMedia": "11"}, b"NumMedia is more than"),
        ({"NumMedia": "2", "MediaUrl0": "https://api.twilio.com/m/0", "MediaContentType0": "image/png"}, b"MediaUrl1"),
        ({"NumMedia": "1", "MediaUrl0": "http://api.twilio.com/m/0", "MediaContentType0": "image/png"}, b"https"),
        ({"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/0", "MediaContentType0": "png"}, b"media type"),
    ],
    ids=[
        "no-from",
        "empty-from",
        "no-sid",
        "short-sid",
        "unparsable-from",
        "too-short-from",
        "over-long-body",
        "bad-num-media",
        "too-many-media",
        "missing-media-url",
        "http-media-url",
        "bad-content-type",
    ],
)
def test_malformed_but_signed_requests_are_refused_with_nothing_half_stored(
    sms_endpoint, auth_token, twilio_post, change, expected
):
    params = inbound_params()
    for key, value in change.items():
        if value is None:
            params.pop(key, None)
            params.pop({"MessageSid": "SmsMessageSid"}.get(key, ""), None)
        else:
            params[key] = value
    before = stored_counts()

    response = twilio_post(MESSAGES_PATH, params, token=auth_token)

    assert response.status_code == 400
    assert expected in response.content
    assert response["Content-Type"].startswith("text/plain")
    assert stored_counts() == before
    assert not rejections()


def test_unknown_number_is_not_found_and_nothing_is_stored(sms_endpoint, auth_token, twilio_post, caplog):
    response = twilio_post(MESSAGES_PATH, inbound_params(to="+15559999999"), token=auth_token)

    assert response.status_code == 404
    assert b"No active endpoint" in response.content
    assert "no active endpoint" in caplog.text
    assert "5559999999" not in caplog.text
    assert stored_counts()["messages"] == 0


def test_inactive_endpoint_is_not_found(demo_line, auth_token, twilio_post):
    from tests.integrations.twilio.conftest import SMS_NUMBER, endpoint_create

    endpoint_create(demo_line, channel="sms", address=SMS_NUMBER, token=auth_token, active=False)
    response = twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token)
    assert response.status_code == 404


def test_blocked_sender_is_stored_but_never_queued(sms_endpoint, auth_token, twilio_post, demo_line):
    BlockedSender.objects.create(
        line=demo_line, sender_index=sender_index_for(channel="sms", address=CHILD), reason="abusive"
    )
    response = twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token)

    assert response.status_code == 200
    contact = Contact.objects.get()
    assert contact.blocked and contact.status == "closed"
    assert not Contact.objects.filter(status="waiting").exists()


def test_only_post_is_accepted(sms_endpoint, client):
    assert client.get(MESSAGES_PATH).status_code == 405


def test_webhook_needs_no_login_or_csrf_token(sms_endpoint, auth_token, settings):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    params = inbound_params(sid=new_sid())
    signature = signature_for(auth_token, settings.PUBLIC_BASE_URL + MESSAGES_PATH, params)
    response = strict.post(MESSAGES_PATH, params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
