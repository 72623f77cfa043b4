"""The one write path for messages: store once, encrypted, in the sender's contact; deliver with retries."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django_tasks_db.models import DBTaskResult

from helpline.hours import line_is_open
from helpline.models import BlockedSender, ChannelEndpoint, Contact, Message
from helpline.services.inbound import Media, message_receive, sender_index_for
from helpline.services.outbound import message_deliver_attempt, message_send, message_status_update
from helpline.vault.services import unseal

SENDER = "+15551230001"


@pytest.mark.django_db
def test_first_message_opens_a_waiting_contact_and_later_ones_join_it(sms_endpoint, recording_gateway):
    first = message_receive(endpoint=sms_endpoint, sender=SENDER, body="I need help", provider_id="SM1")
    second = message_receive(endpoint=sms_endpoint, sender="+1 555 123 0001", body="please", provider_id="SM2")
    assert first.contact.pk == second.contact.pk
    contact = Contact.objects.get()
    assert contact.status == "waiting" and contact.language == "en"
    assert unseal(contact, "sender") == SENDER
    assert [unseal(m, "body") for m in contact.messages.filter(direction="in")] == ["I need help", "please"]


@pytest.mark.django_db
def test_nothing_readable_is_stored(sms_endpoint, recording_gateway):
    message_receive(endpoint=sms_endpoint, sender=SENDER, body="my secret words", provider_id="SM1")
    with connection.cursor() as cursor:
        for table in ("helpline_message", "helpline_contact"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dump = repr(cursor.fetchall())
            assert "my secret words" not in dump and "5551230001" not in dump


@pytest.mark.django_db
def test_retried_provider_id_stores_one_message(sms_endpoint, recording_gateway):
    first = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hello", provider_id="SM1")
    again = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hello", provider_id="SM1")
    assert again.duplicate and again.message.pk == first.message.pk
    assert Message.objects.filter(direction="in").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_messages_from_one_sender_open_one_contact(sms_endpoint, recording_gateway):
    barrier = threading.Barrier(6)
    errors = []

    def write(n):
        try:
            barrier.wait()
            message_receive(endpoint=sms_endpoint, sender=SENDER, body=f"part {n}", provider_id=f"SM{n}")
            message_receive(endpoint=sms_endpoint, sender=SENDER, body="same", provider_id="SMdup")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Contact.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 7


@pytest.mark.django_db
def test_a_closed_conversation_is_not_joined_and_the_contact_returned_is_the_stored_one(
    sms_endpoint, recording_gateway
):
    first = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hello", provider_id="SM1")
    joined = message_receive(endpoint=sms_endpoint, sender=SENDER, body="still here", provider_id="SM2")
    stored = Contact.objects.select_related("data_key").get(pk=first.contact.pk)
    assert joined.contact.pk == stored.pk
    for field in Contact._meta.concrete_fields:
        assert getattr(joined.contact, field.attname) == getattr(stored, field.attname), field.name
    assert unseal(joined.contact, "sender") == SENDER  # its data key came with it
    Contact.objects.filter(pk=stored.pk).update(status="closed")
    later = message_receive(endpoint=sms_endpoint, sender=SENDER, body="again", provider_id="SM3")
    assert later.contact.pk != stored.pk and later.contact.status == "waiting"
    kept = Message.objects.filter(contact=stored, direction="in")
    assert [unseal(m, "body") for m in kept] == ["hello", "still here"]


@pytest.mark.django_db(transaction=True)
def test_a_message_arriving_while_its_conversation_is_being_closed_waits_and_opens_a_new_one(
    sms_endpoint, recording_gateway
):
    first = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hello", provider_id="SM1")
    locked, arrived = threading.Event(), []

    def write():
        try:
            locked.wait(10)
            arrived.append(message_receive(endpoint=sms_endpoint, sender=SENDER, body="wait", provider_id="SM2"))
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    with transaction.atomic():  # as closing a conversation does: lock the contact, then change it
        Contact.objects.select_for_update().get(pk=first.contact.pk)
        locked.set()
        writer.join(0.5)
        assert writer.is_alive() and arrived == []  # held behind the lock, nothing stored yet
        Contact.objects.filter(pk=first.contact.pk).update(status="closed")
    writer.join(10)
    assert arrived[0].contact.pk != first.contact.pk
    assert Message.objects.filter(contact=first.contact, direction="in").count() == 1


@pytest.mark.django_db
def test_media_are_recorded_sealed_and_not_fetched(sms_endpoint, recording_gateway):
    media = [Media("image/jpeg", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")]
    inbound = message_receive(endpoint=sms_endpoint, sender=SENDER, body="", provider_id="SM1", media=media)
    message = Message.objects.get(pk=inbound.message.pk)
    assert message.media_count == 1 and message.media_types == ["image/jpeg"]
    assert "ME1" in unseal(message, "media_urls")


@pytest.mark.django_db
def test_new_contact_gets_a_neutral_waiting_reply(sms_endpoint, recording_gateway):
    message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi", provider_id="SM1")
    message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi again", provider_id="SM2")
    replies = Message.objects.filter(direction="out")
    assert replies.count() == 1
    assert replies.get().automatic
    assert "counsellor will answer" in unseal(replies.get(), "body")


@pytest.mark.django_db
def test_out_of_hours_reply_uses_the_lines_message(sms_endpoint, recording_gateway, demo_line):
    # Hours configured, but none today or any day: closed whenever the test runs.
    demo_line.opening_hours = {"mon": []}
    demo_line.out_of_hours_message = "We open at nine."
    demo_line.save()
    assert not line_is_open(demo_line)
    message_receive(endpoint=ChannelEndpoint.objects.get(), sender=SENDER, body="hi", provider_id="SM1")
    reply = Message.objects.get(direction="out")
    assert unseal(reply, "body") == "We open at nine."


@pytest.mark.django_db
def test_blocked_sender_is_answered_once_and_never_queued(sms_endpoint, recording_gateway, demo_line):
    BlockedSender.objects.create(line=demo_line, sender_index=sender_index_for(channel="sms", address=SENDER))
    message_receive(endpoint=sms_endpoint, sender=SENDER, body="abuse", provider_id="SM1")
    message_receive(endpoint=sms_endpoint, sender=SENDER, body="more abuse", provider_id="SM2")
    contact = Contact.objects.get()
    assert contact.blocked and contact.status == "closed"
    assert Message.objects.filter(direction="out").count() == 1


@pytest.mark.django_db
def test_expired_block_no_longer_applies(sms_endpoint, recording_gateway, demo_line):
    from django.utils import timezone

    BlockedSender.objects.create(
        line=demo_line,
        sender_index=sender_index_for(channel="sms", address=SENDER),
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    message_receive(endpoint=sms_endpoint, sender=SENDER, body="hello", provider_id="SM1")
    assert Contact.objects.get().status == "waiting"


@pytest.mark.django_db
def test_overlong_body_is_refused_and_nothing_stored(sms_endpoint, recording_gateway):
    with pytest.raises(ValueError, match="at most"):
        message_receive(endpoint=sms_endpoint, sender=SENDER, body="x" * 5000, provider_id="SM1")
    assert not Contact.objects.exists() and not Message.objects.exists()


@pytest.mark.django_db
def test_status_only_moves_forward(sms_endpoint, recording_gateway, counsellor):
    contact = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi", provider_id="SM1").contact
    reply = message_send(contact=contact, body="Hello, I am here.", author=counsellor.staff)
    Message.objects.filter(pk=reply.pk).update(provider_id="SMout", status="sent", status_rank=3)
    assert message_status_update(endpoint=sms_endpoint, provider_id="SMout", status="delivered")
    assert not message_status_update(endpoint=sms_endpoint, provider_id="SMout", status="sent")
    assert not message_status_update(endpoint=sms_endpoint, provider_id="SMunknown", status="delivered")
    assert Message.objects.get(pk=reply.pk).status == "delivered"


@pytest.mark.django_db
def test_delivery_sends_the_decrypted_reply_once(sms_endpoint, recording_gateway, counsellor):
    contact = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi", provider_id="SM1").contact
    reply = message_send(contact=contact, body="You are not alone.", author=counsellor.staff)
    assert message_deliver_attempt(message_id=str(reply.pk)) == "sent"
    assert message_deliver_attempt(message_id=str(reply.pk)) == "skipped"
    sent = recording_gateway.SENT[-1]
    assert (sent.to, sent.body, sent.endpoint_secret) == (SENDER, "You are not alone.", "token")
    assert Message.objects.get(pk=reply.pk).provider_id.startswith("SM")


@pytest.mark.django_db(transaction=True)
def test_temporary_failures_are_retried_then_fail_in_plain_words(sms_endpoint, recording_gateway, counsellor, settings):
    settings.HELPLINE_SEND_MAX_ATTEMPTS = 2
    contact = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi", provider_id="SM1").contact
    DBTaskResult.objects.all().delete()
    reply = message_send(contact=contact, body="Still there?", author=counsellor.staff)
    recording_gateway.SCRIPT.extend(["temporary", "temporary"])
    assert message_deliver_attempt(message_id=str(reply.pk)) == "queued"
    assert DBTaskResult.objects.count() == 2  # the first send and one retry
    assert message_deliver_attempt(message_id=str(reply.pk)) == "failed"
    failed = Message.objects.get(pk=reply.pk)
    assert failed.error_message == "The provider did not answer." and failed.attempts == 2


@pytest.mark.django_db
def test_permanent_failure_is_not_retried(sms_endpoint, recording_gateway, counsellor):
    contact = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi", provider_id="SM1").contact
    reply = message_send(contact=contact, body="Hello", author=counsellor.staff)
    recording_gateway.SCRIPT.append("permanent")
    assert message_deliver_attempt(message_id=str(reply.pk)) == "failed"
    assert Message.objects.get(pk=reply.pk).error_message == "This number cannot receive messages."


@pytest.mark.django_db
def test_counsellor_cannot_send_an_empty_message(sms_endpoint, recording_gateway, counsellor):
    contact = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi", provider_id="SM1").contact
    with pytest.raises(ValueError, match="empty"):
        message_send(contact=contact, body="   ", author=counsellor.staff)


class FakeLine:
    timezone = "Africa/Nairobi"
    opening_hours = {"mon": [["08:00", "17:00"]], "fri": [["20:00", "02:00"]]}
    opening_exceptions = []


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 23, 8, 0), True),  # Monday 08:00 opens
        (datetime(2026, 11, 23, 17, 0), False),  # Monday 17:00 has closed
        (datetime(2026, 11, 27, 23, 30), True),  # Friday night shift
        (datetime(2026, 11, 28, 1, 59), True),  # ...running past midnight
        (datetime(2026, 11, 28, 2, 0), False),
        (datetime(2026, 11, 24, 12, 0), False),  # Tuesday: no hours
    ],
)
def test_opening_hours_in_the_lines_time_zone(local, expected):
    at = local.replace(tzinfo=ZoneInfo("Africa/Nairobi"))
    assert line_is_open(FakeLine, at) is expected


def test_line_without_hours_is_always_open():
    class AlwaysOpen:
        timezone = "UTC"
        opening_hours = {}
        opening_exceptions = []

    assert line_is_open(AlwaysOpen)


@pytest.mark.django_db(transaction=True)
def test_a_worker_crash_mid_delivery_loses_nothing(sms_endpoint, recording_gateway, counsellor):
    """The worker claimed the message and died before the provider answered: it is queued again
    and delivered once by the next worker."""
    from django.core.management import call_command
    from django.utils import timezone

    from helpline.outbox import _claim_recording
    from helpline.services.outbound import MESSAGE_OUTBOX

    contact = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi", provider_id="SM1").contact
    reply = message_send(contact=contact, body="Are you safe?", author=counsellor.staff)
    DBTaskResult.objects.all().delete()
    _claim_recording(MESSAGE_OUTBOX, str(reply.pk))  # ...and then the worker died
    assert Message.objects.get(pk=reply.pk).status == "sending"

    call_command("outbox_sweep", "--minutes", "5", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Message.objects.get(pk=reply.pk).status == "sending"  # not yet: it may still be on its way

    Message.objects.filter(pk=reply.pk).update(claimed_at=timezone.now() - timedelta(minutes=6))
    call_command("outbox_sweep", "--minutes", "5", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Message.objects.get(pk=reply.pk).status == "queued"
    assert DBTaskResult.objects.count() == 1  # a delivery task is queued again

    call_command("db_worker", "--batch", "--queue-name", "*", verbosity=0)
    delivered = Message.objects.get(pk=reply.pk)
    assert delivered.status == "sent" and delivered.attempts == 2
    assert [sent.body for sent in recording_gateway.SENT].count("Are you safe?") == 1
