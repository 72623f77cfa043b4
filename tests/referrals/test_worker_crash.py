"""A worker process killed with SIGKILL in the middle of a delivery, then restarted: the referral is
delivered, and the receiver (deduplicating on the Idempotency-Key, as docs/WEBHOOK.md asks) holds one."""

import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from helpline.outbox import outbox_sweep
from referrals.lifecycle import Status
from referrals.models import Delivery, DeliveryStatus, Referral
from referrals.outbox import REFERRAL_OUTBOX
from referrals.services.referrals import referral_confirm, referral_override_request, referral_plan_decide
from tests.integrations.webhook.conftest import PATH, Receiver

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def _worker(*extra) -> subprocess.Popen:
    database = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "HELPLINE_INPROCESS_WORKER": "false",
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            "*",
            "--interval",
            "0.1",
            "--no-startup-delay",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_worker_once(arrived: threading.Event, never: str):
    """Start a worker, SIGKILL it as soon as ``arrived`` is set (the receiver holds a post), and reap it."""
    worker = _worker()
    try:
        assert arrived.wait(120), never
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()


def test_a_worker_killed_mid_delivery_leaves_it_to_be_retried_and_the_receiver_sees_one(
    plan, counsellor, supervisor, agencies, fake_http
):
    server = fake_http()
    receiver = Receiver(server=server)
    arrived = threading.Event()

    def takes_it_then_hangs(request):
        answer = receiver.handle(request)  # the receiver stores it...
        arrived.set()
        return replace(answer, delay=20)  # ...and the worker dies before hearing back

    server.route("POST", PATH, takes_it_then_hangs, then=receiver.handle)
    receiver.serve(agencies["ke-police-nairobi"])
    police = plan["ke-police-nairobi"]
    referral_confirm(actor=counsellor, referral=police)
    referral_override_request(actor=counsellor, referral=police, reason="Asking would put her at risk")
    referral_plan_decide(
        actor=supervisor, approval=Referral.objects.get(pk=police.pk).approval, approve=True, reason="Agreed"
    )
    delivery = Delivery.objects.get(referral=police)

    _kill_worker_once(arrived, "the worker never posted the referral")
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENDING  # claimed by the dead worker
    assert Referral.objects.get(pk=police.pk).status == Status.QUEUED

    # The restarted worker's start-up sweep finds the abandoned claim (helpline.worker does this).
    assert outbox_sweep(REFERRAL_OUTBOX, stalled_after=timedelta(0))["stalled"] == 1
    restarted = _worker("--batch")
    assert restarted.wait(120) == 0

    delivered = Delivery.objects.get(pk=delivery.pk)
    assert delivered.status == DeliveryStatus.DELIVERED and delivered.attempts == 2
    assert Referral.objects.get(pk=police.pk).status == Status.SENT
    requests = server.requests_to("POST", PATH)
    assert len(requests) == 2 and {r.headers["Idempotency-Key"] for r in requests} == {str(delivery.pk)}
    assert len(receiver.referrals) == 1


def test_a_worker_killed_mid_batch_leaves_every_unrecorded_delivery_to_be_retried_and_each_arrives_once(
    case, counsellor, agencies, fake_http
):
    from referrals.services.referrals import referral_consent_record, referral_manual_create

    server = fake_http()
    receiver = Receiver(server=server)
    arrived = threading.Event()

    def second_hangs(request):
        answer = receiver.handle(request)
        if len(server.requests_to("POST", PATH)) == 2:
            arrived.set()
            return replace(answer, delay=20)  # the worker dies before hearing back from the second
        return answer

    server.route("POST", PATH, second_hangs)
    police = agencies["ke-police-nairobi"]
    receiver.serve(police)
    referrals = []
    for _ in range(3):
        referral = referral_manual_create(
            actor=counsellor, case=case, agency=police, reason="Another report", consent_rule="required"
        )
        referral_confirm(actor=counsellor, referral=referral)
        referral_consent_record(actor=counsellor, referral=referral, by="child", method="verbal")
        referrals.append(referral.pk)
    deliveries = list(Delivery.objects.filter(referral_id__in=referrals))

    _kill_worker_once(arrived, "the worker never posted the second referral")
    # One batch claimed all three; none of its outcomes was recorded.
    assert set(Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).values_list("status", flat=True)) == {
        DeliveryStatus.SENDING
    }
    assert outbox_sweep(REFERRAL_OUTBOX, stalled_after=timedelta(0))["stalled"] == 3
    server.route("POST", PATH, receiver.handle)
    restarted = _worker("--batch")
    assert restarted.wait(120) == 0

    for delivery in Delivery.objects.filter(pk__in=[d.pk for d in deliveries]):
        assert delivery.status == DeliveryStatus.DELIVERED
    assert set(Referral.objects.filter(pk__in=referrals).values_list("status", flat=True)) == {Status.SENT}
    keys = [r.headers["Idempotency-Key"] for r in server.requests_to("POST", PATH)]
    assert set(keys) == {str(d.pk) for d in deliveries}
    assert len(keys) == 5  # the two the dead worker sent went again, under their own keys
    assert len(receiver.referrals) == 3  # and the receiver holds each once
