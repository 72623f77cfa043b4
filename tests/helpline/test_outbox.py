"""The outbox machinery, tried through the message outbox: atomic hand-over, claims, backoff, recovery."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpline.models import Message
from helpline.outbox import _claim_recording, outbox_overdue_deliver, outbox_sweep
from helpline.retry import RetryPolicy, retry_on_integrity_error
from helpline.services.inbound import message_receive
from helpline.services.outbound import MESSAGE_OUTBOX, message_deliver_attempt, message_send
from tests.helpline.test_messaging import SENDER


def _reply(endpoint, counsellor, body="Are you safe?"):
    contact = message_receive(endpoint=endpoint, sender=SENDER, body="hi", provider_id="SM1").contact
    return message_send(contact=contact, body=body, author=counsellor.staff)


def test_backoff_grows_exponentially_within_jittered_bounds():
    policy = RetryPolicy(max_attempts=5, base_seconds=10, max_seconds=60)
    rng = random.Random(7)
    for attempt, ceiling in ((1, 10), (2, 20), (3, 40), (4, 60), (9, 60)):
        delays = {policy.delay(attempt, rng=rng).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered: items failing together do not return together
    assert not policy.exhausted(4) and policy.exhausted(5)


@pytest.mark.django_db
def test_retry_on_integrity_error_gives_up_after_the_last_attempt():
    from django.db import IntegrityError

    seen = []

    def always_conflicts(attempt):
        seen.append(attempt)
        raise IntegrityError("duplicate")

    with pytest.raises(IntegrityError):
        retry_on_integrity_error(always_conflicts, attempts=3)
    assert seen == [0, 1, 2]
    assert (
        retry_on_integrity_error(lambda attempt: attempt if attempt else (_ for _ in ()).throw(IntegrityError())) == 1
    )


@pytest.mark.django_db
def test_a_rolled_back_reply_leaves_no_delivery_task_behind(sms_endpoint, counsellor, recording_gateway):
    contact = message_receive(endpoint=sms_endpoint, sender=SENDER, body="hi", provider_id="SM1").contact
    messages_before = Message.objects.count()
    DBTaskResult.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        message_send(contact=contact, body="never sent", author=counsellor.staff)
        assert DBTaskResult.objects.count() == 1  # written with the message, inside the transaction
        raise RuntimeError("the request failed after the reply was written")
    assert Message.objects.count() == messages_before
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_the_overdue_job_leaves_a_reply_that_has_its_own_task(sms_endpoint, counsellor, recording_gateway, settings):
    """An SMS reply is delivered by its task: the periodic job of the replies delivered at once (which have
    none) does not send it beside the task, however late it is."""
    settings.HELPLINE_GATEWAYS = {**settings.HELPLINE_GATEWAYS, "webchat": "helpline.webchat.gateway.WebChatGateway"}
    reply = _reply(sms_endpoint, counsellor)
    later = timezone.now() + timedelta(seconds=settings.HELPLINE_IMMEDIATE_DELIVERY_GRACE_SECONDS + 60)
    assert outbox_overdue_deliver(now=later) == {}
    assert Message.objects.get(pk=reply.pk).status == "queued" and recording_gateway.SENT == []


@pytest.mark.django_db
def test_a_committed_reply_always_has_its_delivery_task(sms_endpoint, counsellor, recording_gateway):
    reply = _reply(sms_endpoint, counsellor)
    tasks = [task.args_kwargs["args"] for task in DBTaskResult.objects.all()]
    outbound = Message.objects.filter(direction="out")  # the waiting notice, then the reply
    assert sorted(tasks) == sorted(["message", str(message.pk)] for message in outbound)
    assert str(reply.pk) in {args[1] for args in tasks}


@pytest.mark.django_db(transaction=True)
def test_an_item_claimed_by_one_worker_is_skipped_by_another(sms_endpoint, counsellor, recording_gateway):
    reply = _reply(sms_endpoint, counsellor)
    holding, release = threading.Event(), threading.Event()
    results = {}

    def first_worker():
        try:
            with transaction.atomic():
                Message.objects.select_for_update().get(pk=reply.pk)  # a worker in the middle of its claim
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert holding.wait(10)
    try:
        results["second"] = message_deliver_attempt(message_id=reply.pk)  # does not wait for the lock
    finally:
        release.set()
        thread.join()
    assert results["second"] == "skipped"
    assert recording_gateway.SENT == []
    assert message_deliver_attempt(message_id=reply.pk) == "sent"
    assert message_deliver_attempt(message_id=reply.pk) == "skipped"  # never twice
    assert len(recording_gateway.SENT) == 1


@pytest.mark.django_db
def test_a_retry_is_due_only_after_its_backoff(sms_endpoint, counsellor, recording_gateway, settings):
    settings.HELPLINE_SEND_RETRY_SECONDS = 30
    recording_gateway.SCRIPT.extend(["temporary"])
    reply = _reply(sms_endpoint, counsellor)
    assert message_deliver_attempt(message_id=reply.pk) == "queued"
    waiting = Message.objects.get(pk=reply.pk)
    assert timezone.now() + timedelta(seconds=14) < waiting.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert message_deliver_attempt(message_id=reply.pk) == "skipped"  # too early
    Message.objects.filter(pk=reply.pk).update(next_attempt_at=timezone.now())
    assert message_deliver_attempt(message_id=reply.pk) == "sent"


@pytest.mark.django_db
def test_the_sweep_requeues_abandoned_claims_and_lost_tasks_but_not_fresh_ones(
    sms_endpoint, counsellor, recording_gateway
):
    abandoned = _reply(sms_endpoint, counsellor, "abandoned")
    lost = message_send(contact=abandoned.contact, body="lost", author=counsellor.staff)
    fresh = message_send(contact=abandoned.contact, body="fresh", author=counsellor.staff)
    _claim_recording(MESSAGE_OUTBOX, str(abandoned.pk))  # ...and the worker died
    DBTaskResult.objects.all().delete()  # ...and the task of "lost" was lost with it
    long_ago = timezone.now() - timedelta(minutes=10)
    Message.objects.filter(pk=abandoned.pk).update(claimed_at=long_ago)
    Message.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago)

    assert outbox_sweep(MESSAGE_OUTBOX) == {"stalled": 1, "lost": 1}
    queued_again = sorted(task.args_kwargs["args"][1] for task in DBTaskResult.objects.all())
    assert queued_again == sorted([str(abandoned.pk), str(lost.pk)])
    assert Message.objects.get(pk=abandoned.pk).status == "queued"
    assert outbox_sweep(MESSAGE_OUTBOX) == {"stalled": 0, "lost": 0}  # idempotent
    for message in (abandoned, lost, fresh):
        assert message_deliver_attempt(message_id=message.pk) == "sent"
