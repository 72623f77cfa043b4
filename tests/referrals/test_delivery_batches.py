"""Deliveries in batches (REFERRAL_DELIVERY_BATCH): one worker task claims the due deliveries beside its
own, sends them over one keep-alive connection and records every outcome in one transaction, with the
same guarantees as one at a time: each referral once at the receiver under its own Idempotency-Key,
its event and its audit record, backoff for the one that failed, nothing left claimed."""

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import helpline.outbox
from helpline.audit.linker import audit_link_pending
from helpline.audit.models import AuditEvent
from helpline.audit.selectors import audit_chain_verify
from helpline.outbox import outbox_attempt_batch
from helpline.worker import task_worker
from referrals import actions
from referrals.lifecycle import Status
from referrals.models import Delivery, DeliveryStatus, Referral, ReferralEvent
from referrals.outbox import REFERRAL_OUTBOX
from referrals.services.referrals import referral_confirm, referral_consent_record, referral_manual_create
from tests.integrations.webhook.conftest import PATH

pytestmark = pytest.mark.django_db


def _queue(case, counsellor, agency, count):
    referrals = []
    for _ in range(count):
        referral = referral_manual_create(
            actor=counsellor, case=case, agency=agency, reason="Another report", consent_rule="required"
        )
        referral_confirm(actor=counsellor, referral=referral)
        referral_consent_record(actor=counsellor, referral=referral, by="child", method="verbal")
        referrals.append(referral.pk)
    return list(Delivery.objects.filter(referral_id__in=referrals).order_by("created_at"))


def _run_worker():
    """What ``db_worker`` does with each ready task, in the test's transaction (its loop closes connections)."""
    worker = task_worker(worker_id="test-batches", interval=0, until_empty=True)
    while (task := DBTaskResult.objects.ready().get_locked()) is not None:
        task.claim(worker.worker_id)
        worker.run_task(task)


@pytest.fixture
def six(case, counsellor, agencies, receiver, settings):
    settings.REFERRAL_DELIVERY_BATCH = 4
    settings.REFERRAL_DELIVERY_RETRY_SECONDS = 30
    DBTaskResult.objects.all().delete()
    return _queue(case, counsellor, agencies["ke-police-nairobi"], 6)


def test_a_burst_goes_out_in_batches_each_referral_once_with_its_event_and_audit_record(six, receiver):
    _run_worker()

    requests = receiver.server.requests_to("POST", PATH)
    assert sorted(r.headers["Idempotency-Key"] for r in requests) == sorted(str(d.pk) for d in six)
    assert len(receiver.referrals) == 6
    for delivery in Delivery.objects.filter(pk__in=[d.pk for d in six]):
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
        assert delivery.claimed_at is None and delivery.delivered_at is not None
    referrals = Referral.objects.filter(deliveries__in=six)
    assert {r.status for r in referrals} == {Status.SENT}
    assert len({r.external_reference for r in referrals}) == 6  # each its own reference from the receiver
    assert all(r.sent_at and r.updated_at >= r.sent_at for r in referrals)
    for referral in referrals:
        assert ReferralEvent.objects.filter(referral=referral, to_status=Status.SENT).count() == 1
        assert AuditEvent.objects.filter(action=actions.REFERRAL_SENT, record_id=str(referral.pk)).count() == 1
    # Two tasks ran (4 + 2), the other four were closed by the claims that took their deliveries.
    tasks = DBTaskResult.objects.all()
    assert sorted(task.return_value for task in tasks) == ["batched"] * 4 + ["sent 2", "sent 4"]
    assert {task.status for task in tasks} == {"SUCCESSFUL"}
    # The audit rows written together are chained like any others.
    audit_link_pending()
    report = audit_chain_verify()
    assert not report.problem and report.unlinked == 0


def test_a_failure_in_a_batch_backs_off_that_delivery_only(six, receiver):
    receiver.server.fail_first(1, "POST", PATH)  # the batch's first delivery gets a 503
    first = outbox_attempt_batch(outbox=REFERRAL_OUTBOX, item_id=str(six[0].pk))
    assert first == "sent 3, retrying 1"
    failed = Delivery.objects.get(pk=six[0].pk)
    assert failed.status == DeliveryStatus.PENDING and failed.attempts == 1 and failed.claimed_at is None
    assert failed.next_attempt_at > timezone.now()  # the outbox's backoff
    assert failed.last_code == "503"
    retry = DBTaskResult.objects.filter(args_kwargs__args__1=str(failed.pk), status="READY").latest("enqueued_at")
    assert retry.run_after >= failed.next_attempt_at
    assert Referral.objects.get(deliveries=failed).status == Status.QUEUED
    assert Delivery.objects.filter(pk__in=[d.pk for d in six], status=DeliveryStatus.DELIVERED).count() == 3


def test_a_batch_out_of_time_puts_what_it_did_not_try_back_in_line(six, receiver, monkeypatch):
    monkeypatch.setattr(helpline.outbox, "BATCH_SEND_SECONDS", -1)
    assert outbox_attempt_batch(outbox=REFERRAL_OUTBOX, item_id=str(six[0].pk)) == "sent 1, put back 3"
    assert len(receiver.server.requests_to("POST", PATH)) == 1
    back = Delivery.objects.filter(pk__in=[d.pk for d in six[1:]], status=DeliveryStatus.PENDING)
    assert back.count() == 5
    assert {(d.attempts, d.claimed_at) for d in back} == {(0, None)}  # never tried: no attempt counted
    _run_worker()  # their tasks (queued again or never closed) deliver them, each once
    assert Delivery.objects.filter(pk__in=[d.pk for d in six], status=DeliveryStatus.DELIVERED).count() == 6
    assert len(receiver.server.requests_to("POST", PATH)) == 6 and len(receiver.referrals) == 6


def test_a_single_attempt_still_sends_only_its_own_delivery(six, receiver):
    from referrals.outbox import delivery_attempt

    assert delivery_attempt(delivery_id=six[2].pk) == "sent"
    assert [r.headers["Idempotency-Key"] for r in receiver.server.requests_to("POST", PATH)] == [str(six[2].pk)]
