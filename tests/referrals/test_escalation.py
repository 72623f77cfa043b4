"""Overdue acknowledgements and completions are escalated once each to the line's supervisors, live and
by email without content; the job runs every minute and is safe on several workers."""

import asyncio
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone

from helpline.periodic import periodic_jobs
from referrals.escalation import referrals_escalate
from referrals.lifecycle import Status
from referrals.models import Referral
from tests.referrals.conftest import PROTECTED

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(plan, supervisor, far_supervisor):
    """The police referral, sent an hour ago, its acknowledgement due 10 minutes ago."""
    supervisor.email = "supervisor@helpline.example"
    supervisor.save()
    far_supervisor.email = "far@other.example"
    far_supervisor.save()
    now = timezone.now()
    Referral.objects.filter(pk=plan["ke-police-nairobi"].pk).update(
        status=Status.SENT,
        sent_at=now - timedelta(hours=1),
        acknowledge_by=now - timedelta(minutes=10),
        complete_by=now + timedelta(days=3),
    )
    return Referral.objects.get(pk=plan["ke-police-nairobi"].pk)


def test_the_job_is_registered_to_run_every_minute():
    [job] = [job for job in periodic_jobs() if job.name == "referrals.escalate"]
    assert job.every == timedelta(minutes=1)


def test_an_overdue_acknowledgement_is_escalated_once_by_email_without_content(
    sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert referrals_escalate() == {"acknowledge": 1, "complete": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert referrals_escalate() == {"acknowledge": 0, "complete": 0}  # once
    [email] = mail.outbox
    assert email.to == ["supervisor@helpline.example"]  # the line's supervisors only
    assert "not acknowledged" in email.body and "/referrals/attention/" in email.body
    assert not any(value in email.subject + email.body for value in [*PROTECTED, sent.case.reference])
    assert Referral.objects.get(pk=sent.pk).events.filter(kind="acknowledge_overdue").count() == 1


def test_an_acknowledged_referral_is_not_escalated_but_its_completion_deadline_is(sent):
    Referral.objects.filter(pk=sent.pk).update(
        status=Status.ACKNOWLEDGED, complete_by=timezone.now() - timedelta(minutes=1)
    )
    assert referrals_escalate() == {"acknowledge": 0, "complete": 1}


def test_the_supervisors_list_shows_it_as_overdue(sent, verified_client, supervisor, far_supervisor):
    page = verified_client(supervisor).get("/referrals/attention/").content.decode()
    assert sent.case.reference in page and sent.agency.name in page


def test_the_supervision_alerts_card_shows_it_to_the_line_s_supervisors_only(
    sent, verified_client, supervisor, far_supervisor, counsellor
):
    row = f'data-referral-id="{sent.pk}"'
    own = verified_client(supervisor)
    card = own.get("/supervisor/alerts/").content.decode()
    assert row in card and "Referral overdue" in card and sent.agency.name in card
    assert "data-alerts-none hidden" in card  # the count includes it
    Referral.objects.filter(pk=sent.pk).update(status=Status.ACKNOWLEDGED)  # no longer overdue: gone
    assert row not in own.get("/supervisor/alerts/").content.decode()
    Referral.objects.filter(pk=sent.pk).update(status=Status.FAILED)
    assert "Referral not delivered" in own.get("/supervisor/alerts/").content.decode()
    # Another line's supervisor (the same test client, logged in again) is never shown it.
    assert row not in verified_client(far_supervisor).get("/supervisor/alerts/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_escalation_refreshes_the_line_s_supervisors_pages_live_after_commit(plan, supervisor):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from helpline.realtime import line_group

    referral = plan["ke-police-nairobi"]
    Referral.objects.filter(pk=referral.pk).update(
        status=Status.SENT, acknowledge_by=timezone.now() - timedelta(minutes=5)
    )
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(line_group(referral.case.line_id), channel)
    assert referrals_escalate()["acknowledge"] == 1

    async def received():
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    event = async_to_sync(received)()
    # Ids only: the card reads the database again.
    assert event == {"type": "alert.changed", "line_id": referral.case.line_id}


@pytest.mark.django_db(transaction=True)
def test_two_workers_escalating_at_once_alert_once(plan, supervisor):
    now = timezone.now()
    Referral.objects.filter(pk=plan["ke-police-nairobi"].pk).update(
        status=Status.SENT, acknowledge_by=now - timedelta(minutes=5)
    )
    holding, release = threading.Event(), threading.Event()

    def first_worker():
        try:
            with transaction.atomic():
                Referral.objects.select_for_update().get(pk=plan["ke-police-nairobi"].pk)  # mid-escalation
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert holding.wait(10)
    try:
        assert referrals_escalate()["acknowledge"] == 0  # skips the locked row, does not wait
    finally:
        release.set()
        thread.join()
    assert referrals_escalate()["acknowledge"] == 1
    assert referrals_escalate()["acknowledge"] == 0


def test_a_case_with_an_overdue_referral_is_overdue_in_the_case_list(sent):
    from cases.models import Case
    from cases.overdue import overdue_condition

    assert Case.objects.filter(overdue_condition(timezone.now()), pk=sent.case_id).exists()
