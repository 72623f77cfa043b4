"""A delivery status that arrives before the provider's id is stored is kept, applied when the id lands, or expires."""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpline.models import ChannelEndpoint, Message, PendingStatus
from helpline.periodic import periodic_jobs
from helpline.services.inbound import message_receive
from helpline.services.outbound import (
    PENDING_STATUS_KEEP,
    message_deliver_attempt,
    message_send,
    message_status_update,
    pending_statuses_expire,
)
from helpline.vault.services import datakey_create, seal

pytestmark = pytest.mark.django_db

SENDER = "+15551230001"


def next_provider_id(recording_gateway) -> str:
    """The id the recording gateway gives the next message it sends."""
    return f"SM{len(recording_gateway.SENT) + 1:032d}"


def queued_reply(endpoint, counsellor) -> Message:
    contact = message_receive(endpoint=endpoint, sender=SENDER, body="hi", provider_id="SMin1").contact
    Message.objects.filter(contact=contact, direction="out").update(status="sent", status_rank=3)
    return message_send(contact=contact, body="I am here for you.", author=counsellor.staff)


def test_a_status_before_the_id_is_kept_and_applied_when_the_id_lands(sms_endpoint, recording_gateway, counsellor):
    reply = queued_reply(sms_endpoint, counsellor)
    sid = next_provider_id(recording_gateway)

    changed = message_status_update(
        endpoint=sms_endpoint, provider_id=sid, status="undelivered", error_code="30003", error_message="Off."
    )

    assert changed is False  # no message carries the id yet
    assert PendingStatus.objects.get().status == "undelivered"
    assert message_deliver_attempt(message_id=reply.pk) == "undelivered"
    reply.refresh_from_db()
    assert (reply.provider_id, reply.status, reply.error_code, reply.error_message) == (
        sid,
        "undelivered",
        "30003",
        "Off.",
    )
    assert not PendingStatus.objects.exists()


def test_the_furthest_early_status_wins_whatever_their_order(sms_endpoint, recording_gateway, counsellor):
    reply = queued_reply(sms_endpoint, counsellor)
    sid = next_provider_id(recording_gateway)
    for status in ("sent", "delivered", "sent", "queued"):
        message_status_update(endpoint=sms_endpoint, provider_id=sid, status=status)
    assert PendingStatus.objects.get().status == "delivered"

    message_deliver_attempt(message_id=reply.pk)
    assert Message.objects.get(pk=reply.pk).status == "delivered"
    # A late callback cannot move it back.
    assert not message_status_update(endpoint=sms_endpoint, provider_id=sid, status="sent")
    assert Message.objects.get(pk=reply.pk).status == "delivered"
    assert not PendingStatus.objects.exists()


def test_a_kept_status_behind_the_gateways_own_answer_changes_nothing(sms_endpoint, recording_gateway, counsellor):
    reply = queued_reply(sms_endpoint, counsellor)
    sid = next_provider_id(recording_gateway)
    message_status_update(endpoint=sms_endpoint, provider_id=sid, status="sending")  # the gateway answers "sent"

    assert message_deliver_attempt(message_id=reply.pk) == "sent"
    assert not PendingStatus.objects.exists()


def test_a_status_kept_for_another_endpoint_never_applies(sms_endpoint, recording_gateway, counsellor, demo_line):
    other = ChannelEndpoint(
        line=demo_line, channel="sms", address="+15551239999", provider_account="AC2", data_key=datakey_create()
    )
    seal(other, "provider_secret", "another token")
    other.save()
    reply = queued_reply(sms_endpoint, counsellor)
    sid = next_provider_id(recording_gateway)
    message_status_update(endpoint=other, provider_id=sid, status="failed")

    assert message_deliver_attempt(message_id=reply.pk) == "sent"
    assert PendingStatus.objects.filter(endpoint=other).exists()  # left to expire


def test_an_unknown_status_is_not_kept(sms_endpoint):
    assert not message_status_update(endpoint=sms_endpoint, provider_id="SMx", status="receiving")
    assert not PendingStatus.objects.exists()


def test_statuses_nobody_claims_expire(sms_endpoint):
    for sid in ("SMold", "SMnew"):
        message_status_update(endpoint=sms_endpoint, provider_id=sid, status="delivered")
    PendingStatus.objects.filter(provider_id="SMold").update(
        received_at=timezone.now() - PENDING_STATUS_KEEP - timedelta(minutes=1)
    )

    assert pending_statuses_expire() == 1
    assert list(PendingStatus.objects.values_list("provider_id", flat=True)) == ["SMnew"]


def test_the_expiry_jobs_are_scheduled():
    names = {job.name for job in periodic_jobs()}
    assert {"outbound.pending_statuses_expire", "inbound.receipts_expire"} <= names
