"""Delivery status callbacks: signed, monotonic, and always answered 200 once signed."""

import pytest

from helpline.audit.models import AuditEvent
from helpline.models import Message
from helpline.services.inbound import message_receive
from tests.integrations.twilio.conftest import (
    CHILD,
    SMS_NUMBER,
    STATUS_PATH,
    WHATSAPP_NUMBER,
    new_sid,
    status_params,
)

pytestmark = pytest.mark.django_db


def sent_reply(endpoint) -> Message:
    """The automatic reply to a first message, as if the gateway had handed it to Twilio."""
    inbound = message_receive(endpoint=endpoint, sender=CHILD, body="hello", provider_id=new_sid())
    reply = inbound.contact.messages.get(direction="out")
    Message.objects.filter(pk=reply.pk).update(provider_id=new_sid(), status="sending", status_rank=2)
    return Message.objects.get(pk=reply.pk)


def post_status(twilio_post, token, message, status, **extra):
    return twilio_post(STATUS_PATH, status_params(sid=message.provider_id, status=status, **extra), token=token)


def test_statuses_move_forward_only(sms_endpoint, auth_token, twilio_post):
    reply = sent_reply(sms_endpoint)

    assert post_status(twilio_post, auth_token, reply, "delivered").status_code == 200
    # Twilio does not promise order: a late "sent" must not undo "delivered".
    assert post_status(twilio_post, auth_token, reply, "sent").status_code == 200
    assert post_status(twilio_post, auth_token, reply, "queued").status_code == 200

    reply.refresh_from_db()
    assert reply.status == "delivered"


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [
        ("queued", "sending"),  # already further than queued: unchanged
        ("accepted", "sending"),
        ("sending", "sending"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "read"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("receiving", "sending"),  # an inbound status: ignored
        ("some_new_status", "sending"),  # unknown: ignored, still 200
    ],
)
def test_twilio_statuses_map_to_ours(sms_endpoint, auth_token, twilio_post, twilio_status, ours):
    reply = sent_reply(sms_endpoint)
    assert post_status(twilio_post, auth_token, reply, twilio_status).status_code == 200
    reply.refresh_from_db()
    assert reply.status == ours


def test_undelivered_with_an_error_code_is_explained_in_plain_words(sms_endpoint, auth_token, twilio_post):
    reply = sent_reply(sms_endpoint)
    post_status(twilio_post, auth_token, reply, "undelivered", ErrorCode="30003")

    reply.refresh_from_db()
    assert reply.status == "undelivered"
    assert reply.error_code == "30003"
    assert reply.error_message == "The phone is switched off or out of reach."


def test_whatsapp_read_receipt(whatsapp_endpoint, auth_token, twilio_post):
    reply = sent_reply(whatsapp_endpoint)
    response = post_status(twilio_post, auth_token, reply, "read", line_number=WHATSAPP_NUMBER, whatsapp=True)
    assert response.status_code == 200
    reply.refresh_from_db()
    assert reply.status == "read"


def test_a_known_sid_is_checked_with_its_own_endpoint_even_without_from(sms_endpoint, auth_token, twilio_post):
    reply = sent_reply(sms_endpoint)
    assert post_status(twilio_post, auth_token, reply, "delivered", From=None).status_code == 200
    reply.refresh_from_db()
    assert reply.status == "delivered"


def test_unknown_sid_from_our_number_is_still_answered_200(sms_endpoint, auth_token, twilio_post):
    response = twilio_post(STATUS_PATH, status_params(sid=new_sid(), status="delivered"), token=auth_token)
    assert response.status_code == 200


def test_unknown_sid_from_an_unknown_number_is_not_found(sms_endpoint, auth_token, twilio_post):
    params = status_params(sid=new_sid(), status="delivered", line_number="+15559999999")
    assert twilio_post(STATUS_PATH, params, token=auth_token).status_code == 404


def test_unsigned_status_is_refused_audited_and_changes_nothing(sms_endpoint, auth_token, twilio_post):
    reply = sent_reply(sms_endpoint)
    response = twilio_post(
        STATUS_PATH, status_params(sid=reply.provider_id, status="failed"), token=auth_token, signature=""
    )
    assert response.status_code == 403
    reply.refresh_from_db()
    assert reply.status == "sending"
    event = AuditEvent.objects.get(action="twilio.signature_rejected")
    assert event.details["webhook"] == "status"


def test_forged_status_with_the_wrong_token_is_refused(sms_endpoint, twilio_post):
    reply = sent_reply(sms_endpoint)
    assert post_status(twilio_post, "forged-token", reply, "failed").status_code == 403
    reply.refresh_from_db()
    assert reply.status == "sending"


def test_signed_but_malformed_status_is_a_bad_request(sms_endpoint, auth_token, twilio_post):
    reply = sent_reply(sms_endpoint)
    response = twilio_post(
        STATUS_PATH,
        status_params(sid=reply.provider_id, status="", MessageStatus=None, SmsStatus=None),
        token=auth_token,
    )
    assert response.status_code == 400
    response = post_status(twilio_post, auth_token, reply, "failed", ErrorCode="abc")
    assert response.status_code == 400
    reply.refresh_from_db()
    assert reply.status == "sending"


def test_inbound_message_sid_cannot_be_updated_through_status(sms_endpoint, auth_token, twilio_post):
    sid = new_sid()
    message_receive(endpoint=sms_endpoint, sender=CHILD, body="hello", provider_id=sid)
    params = status_params(sid=sid, status="failed", line_number=SMS_NUMBER)
    assert twilio_post(STATUS_PATH, params, token=auth_token).status_code == 200
    assert Message.objects.get(provider_id=sid).status == "received"
