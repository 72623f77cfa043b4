"""Deliveries in batches (REFERRAL_DELIVERY_BATCH): one worker task claims the due deliveries beside its
own, sends them over one keep-alive connection and records every outcome in one transaction, then the
next batch while there is one (BATCH_DRAIN_SECONDS), with the same guarantees as one at a time: each
referral once at the receiver under its own Idempotency-Key, its event and its audit record, backoff for
the one that failed, nothing left claimed. Outside a caller's transaction the sends run on the sender
thread while the next batch is claimed and the last one recorded (the last test)."""

import threading

import pytest
from django.test import Client
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
from referrals.services.referrals import (
    referral_confirm,
    referral_consent_record,
    referral_manual_create,
    referral_withdraw,
)
from tests.conftest import login_verified
from tests.integrations.webhook.conftest import PATH
from tests.referrals.api.conftest import ApiClient, make_key

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
    # One task ran: its batch of 4, then the next batch of 2; the five others were closed by the claims.
    tasks = DBTaskResult.objects.all()
    assert sorted(task.return_value for task in tasks) == ["batched"] * 5 + ["sent 6"]
    assert {task.status for task in tasks} == {"SUCCESSFUL"}
    # The audit rows written together are chained like any others.
    audit_link_pending()
    report = audit_chain_verify()
    assert not report.problem and report.unlinked == 0


def test_a_failure_in_a_batch_backs_off_that_delivery_only(six, receiver):
    receiver.server.fail_first(1, "POST", PATH)  # the batch's first delivery gets a 503
    first = outbox_attempt_batch(outbox=REFERRAL_OUTBOX, item_id=str(six[0].pk))
    assert first == "sent 5, retrying 1"  # its batch of 4, then the next batch of 2
    failed = Delivery.objects.get(pk=six[0].pk)
    assert failed.status == DeliveryStatus.PENDING and failed.attempts == 1 and failed.claimed_at is None
    assert failed.next_attempt_at > timezone.now()  # the outbox's backoff
    assert failed.last_code == "503"
    retry = DBTaskResult.objects.filter(args_kwargs__args__1=str(failed.pk), status="READY").latest("enqueued_at")
    assert retry.run_after >= failed.next_attempt_at
    assert Referral.objects.get(deliveries=failed).status == Status.QUEUED
    assert Delivery.objects.filter(pk__in=[d.pk for d in six], status=DeliveryStatus.DELIVERED).count() == 5


def test_a_batch_out_of_time_puts_what_it_did_not_try_back_in_line(six, receiver, monkeypatch):
    monkeypatch.setattr(helpline.outbox, "BATCH_SEND_SECONDS", -1)
    # The next batch, claimed while the first was sent, goes back untried too: the drain ends there.
    assert outbox_attempt_batch(outbox=REFERRAL_OUTBOX, item_id=str(six[0].pk)) == "sent 1, put back 5"
    assert len(receiver.server.requests_to("POST", PATH)) == 1
    back = Delivery.objects.filter(pk__in=[d.pk for d in six[1:]], status=DeliveryStatus.PENDING)
    assert back.count() == 5
    assert {(d.attempts, d.claimed_at) for d in back} == {(0, None)}  # never tried: no attempt counted
    _run_worker()  # their tasks (queued again or never closed) deliver them, each once
    assert Delivery.objects.filter(pk__in=[d.pk for d in six], status=DeliveryStatus.DELIVERED).count() == 6
    assert len(receiver.server.requests_to("POST", PATH)) == 6 and len(receiver.referrals) == 6


def test_a_referral_withdrawn_while_its_batch_is_in_flight_stays_withdrawn_and_the_others_are_sent(
    six, receiver, counsellor, monkeypatch
):
    """The batch records its outcomes set-based, and still through the transition table: withdrawn cannot
    become sent, so that referral keeps its withdrawal (no sent event, no sent audit row)."""
    withdrawn = Referral.objects.get(deliveries=six[1])
    send = REFERRAL_OUTBOX.send

    def send_then_withdraw(handover):
        receipt = send(handover)
        if handover.delivery_id == str(six[1].pk):  # the counsellor withdraws it while it is on its way
            referral_withdraw(actor=counsellor, referral=withdrawn, reason="Sent by mistake")
        return receipt

    monkeypatch.setattr(REFERRAL_OUTBOX, "send", send_then_withdraw)
    assert outbox_attempt_batch(outbox=REFERRAL_OUTBOX, item_id=str(six[0].pk)) == "sent 6"

    withdrawn.refresh_from_db()
    # Stamped sent (it reached the police's system, which must see it withdrawn), never moved to sent.
    assert withdrawn.status == Status.WITHDRAWN and withdrawn.sent_at is not None
    assert not ReferralEvent.objects.filter(referral=withdrawn, to_status=Status.SENT).exists()
    # ...but its document did leave the platform: that disclosure is in the audit trail, marked withdrawn.
    [disclosed] = AuditEvent.objects.filter(action=actions.REFERRAL_SENT, record_id=str(withdrawn.pk))
    assert disclosed.details["withdrawn"] is True and disclosed.details["delivery"] == str(six[1].pk)
    assert Delivery.objects.get(pk=six[1].pk).status == DeliveryStatus.DELIVERED  # it did reach the receiver
    others = Referral.objects.filter(deliveries__in=[d for d in six if d.pk != six[1].pk])
    assert {r.status for r in others} == {Status.SENT}
    for referral in others:
        assert ReferralEvent.objects.filter(referral=referral, to_status=Status.SENT).count() == 1
        assert AuditEvent.objects.filter(action=actions.REFERRAL_SENT, record_id=str(referral.pk)).count() == 1


def test_a_single_attempt_still_sends_only_its_own_delivery(six, receiver):
    from referrals.outbox import delivery_attempt

    assert delivery_attempt(delivery_id=six[2].pk) == "sent"
    assert [r.headers["Idempotency-Key"] for r in receiver.server.requests_to("POST", PATH)] == [str(six[2].pk)]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_sends_overlap_the_claims_and_each_referral_arrives_once(
    case, counsellor, agencies, receiver, settings, monkeypatch
):
    """The production path: batches sent by the worker's sender process while this thread claims the next
    and records the last; a failure in the middle is backed off alone and every other delivery is recorded."""
    settings.REFERRAL_DELIVERY_BATCH = 3
    settings.REFERRAL_DELIVERY_RETRY_SECONDS = 30
    DBTaskResult.objects.all().delete()
    deliveries = _queue(case, counsellor, agencies["ke-police-nairobi"], 10)
    receiver.server.fail_first(1, "POST", PATH)
    senders = set()
    send = REFERRAL_OUTBOX.send

    def send_noting_thread(handover):
        senders.add(threading.current_thread().name)
        return send(handover)

    monkeypatch.setattr(REFERRAL_OUTBOX, "send", send_noting_thread)
    assert outbox_attempt_batch(outbox=REFERRAL_OUTBOX, item_id=str(deliveries[0].pk)) == "sent 9, retrying 1"
    assert not senders  # nothing was sent from this process: all of it by the sender process

    keys = [r.headers["Idempotency-Key"] for r in receiver.server.requests_to("POST", PATH)]
    assert sorted(keys) == sorted(str(d.pk) for d in deliveries)  # each once (the failed one: its one attempt)
    states = {d.pk: d for d in Delivery.objects.filter(pk__in=[d.pk for d in deliveries])}
    assert states[deliveries[0].pk].status == DeliveryStatus.PENDING and states[deliveries[0].pk].last_code == "503"
    assert states[deliveries[0].pk].next_attempt_at > timezone.now()
    for pk in [d.pk for d in deliveries[1:]]:
        assert states[pk].status == DeliveryStatus.DELIVERED and states[pk].attempts == 1
        assert states[pk].claimed_at is None
    sent = Referral.objects.filter(deliveries__in=deliveries[1:])
    assert {r.status for r in sent} == {Status.SENT}
    for referral in sent:
        assert AuditEvent.objects.filter(action=actions.REFERRAL_SENT, record_id=str(referral.pk)).count() == 1
    # The other nine tasks were closed by the claims; the failed delivery's retry is queued for later.
    assert DBTaskResult.objects.filter(return_value="batched").count() == 9
    assert DBTaskResult.objects.filter(args_kwargs__args__1=str(deliveries[0].pk), status="READY").exists()


def test_a_referral_withdrawn_before_its_delivery_is_claimed_never_reaches_the_agency(six, receiver, counsellor):
    """Withdrawn while its delivery was still waiting: the case's document must not be handed to the police."""
    withdrawn = Referral.objects.get(deliveries=six[2])
    referral_withdraw(actor=counsellor, referral=withdrawn, reason="Sent by mistake")

    _run_worker()

    keys = {r.headers["Idempotency-Key"] for r in receiver.server.requests_to("POST", PATH)}
    assert str(six[2].pk) not in keys
    assert keys == {str(d.pk) for d in six if d.pk != six[2].pk}
    assert Delivery.objects.get(pk=six[2].pk).status == DeliveryStatus.FAILED
    withdrawn.refresh_from_db()
    assert withdrawn.status == Status.WITHDRAWN and withdrawn.sent_at is None


def test_a_referral_withdrawn_while_its_delivery_is_in_flight_is_still_told_to_the_agency(
    six, receiver, counsellor, monkeypatch
):
    """Withdrawn while its document was on its way to the police's system: the document arrived, so the agency
    must hear that it was withdrawn (stop acting on it), as it does for one withdrawn after it was sent."""
    from django.core import mail

    from referrals.models import AgencyNotice, NoticeKind
    from referrals.notices import notice_attempt
    from referrals.outbox import delivery_attempt
    from tests.referrals.world import agency_user

    withdrawn = Referral.objects.get(deliveries=six[0])
    officer = agency_user("officer_a", withdrawn.agency, email="officer_a@police.example")
    AgencyNotice.objects.all().delete()
    send = REFERRAL_OUTBOX.send

    def send_then_withdraw(handover):
        receipt = send(handover)
        referral_withdraw(actor=counsellor, referral=withdrawn, reason="Sent by mistake: Amina asked us to wait")
        return receipt

    monkeypatch.setattr(REFERRAL_OUTBOX, "send", send_then_withdraw)
    assert delivery_attempt(delivery_id=six[0].pk) == "sent"
    assert str(six[0].pk) in {r.headers["Idempotency-Key"] for r in receiver.server.requests_to("POST", PATH)}

    [notice] = AgencyNotice.objects.filter(referral=withdrawn)
    assert notice.kind == NoticeKind.WITHDRAWN
    mail.outbox.clear()
    assert notice_attempt(notice_id=notice.pk) == "sent"
    [message] = mail.outbox
    assert "withdrew" in message.subject and "stop acting on it" in message.body
    assert "Amina" not in message.subject + message.body

    # The agency's system, which has the document, learns it the way it learns any withdrawal: the API lists
    # it withdrawn and its fetch no longer gives the document; the notice's link opens it, without content.
    api = ApiClient(make_key(withdrawn.agency)[1])
    listed = {row["id"]: row for row in api.get("/api/v1/referrals/").json()["results"]}
    assert listed[str(withdrawn.pk)]["status"] == "withdrawn"
    fetched = api.get(f"/api/v1/referrals/{withdrawn.pk}/").json()
    assert fetched["withdrawn"] is True and fetched["document"] is None
    client = Client()
    login_verified(client, officer)
    page = client.get(f"/authority/referrals/{withdrawn.pk}/")
    assert page.status_code == 200 and "stop acting on it" in page.content.decode()
    assert "Amina" not in page.content.decode()


def test_a_referral_withdrawn_while_its_portal_delivery_is_in_flight_never_reaches_the_agency(
    case, counsellor, agencies, monkeypatch
):
    """The portal transport hands nothing over: withdrawn before its delivery was recorded, the referral never
    appears in the agency's inbox, and the agency hears of neither the referral nor its withdrawal."""
    from referrals.models import AgencyNotice
    from referrals.outbox import delivery_attempt
    from referrals.selectors import referrals_of_agency
    from tests.referrals.world import agency_user

    portal_agency = agencies["ke-police-nairobi"]  # no webhook receiver: it reads its referrals in the portal
    [delivery] = _queue(case, counsellor, portal_agency, 1)
    assert delivery.transport == "portal"
    withdrawn = Referral.objects.get(deliveries=delivery)
    agency_user("officer_p", portal_agency, email="officer_p@agency.example")
    AgencyNotice.objects.all().delete()
    send = REFERRAL_OUTBOX.send

    def send_then_withdraw(handover):
        receipt = send(handover)
        referral_withdraw(actor=counsellor, referral=withdrawn, reason="Sent by mistake")
        return receipt

    monkeypatch.setattr(REFERRAL_OUTBOX, "send", send_then_withdraw)
    assert delivery_attempt(delivery_id=delivery.pk) == "sent"
    assert not referrals_of_agency(portal_agency).filter(pk=withdrawn.pk).exists()
    assert not AgencyNotice.objects.filter(referral=withdrawn).exists()
