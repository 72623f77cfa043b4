"""Delivery through the referral outbox to a webhook receiver on 127.0.0.1: retries with backoff, one
Idempotency-Key per delivery, the receiver's acknowledgement, exhausted retries marked failed with the
supervisors alerted (no content in the email), and the document cut to the agency's fields."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from jsonschema import Draft202012Validator

from referrals.document import SCHEMA_PATH, document_fields
from referrals.document_fields import field_paths_expand
from referrals.lifecycle import Status
from referrals.models import Delivery, Referral
from referrals.outbox import delivery_attempt
from referrals.selectors import referral_shared_view
from referrals.services.referrals import referral_confirm, referral_override_request, referral_plan_decide
from tests.integrations.webhook.conftest import PATH, SECRET
from tests.referrals.conftest import CHILD_NAME, PROTECTED, raw_column

pytestmark = pytest.mark.django_db

VALIDATOR = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


@pytest.fixture
def queued(plan, counsellor, supervisor, receiver, settings):
    """The police referral confirmed, its consent override approved: queued with its delivery."""
    settings.REFERRAL_DELIVERY_RETRY_SECONDS = 30
    settings.REFERRAL_DELIVERY_MAX_ATTEMPTS = 4
    supervisor.email = "supervisor@helpline.example"
    supervisor.save()
    police = plan["ke-police-nairobi"]
    referral_confirm(actor=counsellor, referral=police)
    referral_override_request(actor=counsellor, referral=police, reason="Asking would put her at risk")
    referral_plan_decide(
        actor=supervisor, approval=Referral.objects.get(pk=police.pk).approval, approve=True, reason="Agreed"
    )
    return Referral.objects.select_related("agency").get(pk=police.pk)


def _due_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_the_receiver_gets_one_signed_referral_and_its_reference_is_kept(queued, receiver):
    delivery = Delivery.objects.get(referral=queued)
    assert delivery_attempt(delivery_id=delivery.pk) == "sent"
    [request] = receiver.server.requests_to("POST", PATH)
    assert request.headers["Idempotency-Key"] == str(delivery.pk)
    document = request.json()
    assert document["referral_id"] == str(queued.pk) and document["agency"]["code"] == "ke-police-nairobi"
    assert document["consent"]["status"] == "overridden"
    referral = Referral.objects.get(pk=queued.pk)
    assert referral.status == Status.SENT and referral.external_reference == "AG-1"
    assert referral.acknowledge_by is not None
    assert delivery_attempt(delivery_id=delivery.pk) == "skipped"  # never twice
    assert len(receiver.server.requests_to("POST", PATH)) == 1


def test_a_receiver_that_acknowledges_at_once_moves_the_referral_to_acknowledged(queued, receiver):
    receiver.acknowledge = True
    delivery_attempt(delivery_id=Delivery.objects.get(referral=queued).pk)
    referral = Referral.objects.get(pk=queued.pk)
    assert referral.status == Status.ACKNOWLEDGED
    assert list(referral.events.values_list("kind", flat=True))[-2:] == ["sent", "acknowledged"]
    # The agency sees that its own system acknowledged, not the helpline.
    view = referral_shared_view(agency=referral.agency, referral=referral, actor=None, via="api:k3y1")
    assert [(event["kind"], event["by"]) for event in view["events"]] == [
        ("sent", "the helpline"),
        ("acknowledged", "your agency's system"),
    ]


def test_failures_are_retried_with_backoff_and_the_same_key_and_the_receiver_keeps_one(queued, receiver):
    receiver.server.fail_first(2, "POST", PATH)
    delivery = Delivery.objects.get(referral=queued)
    before = timezone.now()
    assert delivery_attempt(delivery_id=delivery.pk) == "retrying"
    waiting = Delivery.objects.get(pk=delivery.pk)
    assert before + timedelta(seconds=14) < waiting.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert delivery_attempt(delivery_id=delivery.pk) == "skipped"  # not due yet
    _due_now(delivery)
    assert delivery_attempt(delivery_id=delivery.pk) == "retrying"
    second = Delivery.objects.get(pk=delivery.pk)
    assert second.next_attempt_at > timezone.now() + timedelta(seconds=29)  # the second wait is longer
    _due_now(delivery)
    assert delivery_attempt(delivery_id=delivery.pk) == "sent"
    keys = {request.headers["Idempotency-Key"] for request in receiver.server.requests_to("POST", PATH)}
    assert keys == {str(delivery.pk)} and len(receiver.referrals) == 1
    referral = Referral.objects.get(pk=queued.pk)
    assert referral.status == Status.SENT
    assert referral.events.filter(kind="delivery_retry").count() == 2


def test_exhausted_retries_mark_it_failed_and_alert_the_supervisors_without_content(
    queued, receiver, django_capture_on_commit_callbacks
):
    receiver.server.fail_first(10, "POST", PATH)
    delivery = Delivery.objects.get(referral=queued)
    outcomes = []
    for _ in range(4):
        _due_now(delivery)
        with django_capture_on_commit_callbacks(execute=True):
            outcomes.append(delivery_attempt(delivery_id=delivery.pk))
    assert outcomes == ["retrying", "retrying", "retrying", "failed"]
    referral = Referral.objects.get(pk=queued.pk)
    assert referral.status == Status.FAILED
    [email] = mail.outbox
    assert email.to == ["supervisor@helpline.example"] and "could not be delivered" in email.body
    text = email.subject + email.body
    assert not any(value in text for value in [*PROTECTED, queued.case.reference, "sextortion"])


def test_a_permanent_refusal_is_not_retried(queued, receiver):
    receiver.secret = "the-receiver-rotated-its-secret"
    assert delivery_attempt(delivery_id=Delivery.objects.get(referral=queued).pk) == "failed"
    assert Referral.objects.get(pk=queued.pk).status == Status.FAILED


def test_the_document_is_valid_cut_to_the_agencys_fields_and_sealed_as_sent(queued, receiver):
    delivery_attempt(delivery_id=Delivery.objects.get(referral=queued).pk)
    [request] = receiver.server.requests_to("POST", PATH)
    document = request.json()
    assert list(VALIDATOR.iter_errors(document)) == []
    allowed = document_fields(queued)
    assert allowed <= field_paths_expand(queued.agency.fields)
    from referrals.document import document_fields_outside

    assert document_fields_outside(document, allowed) == []
    # The SOP rule shares the perpetrator's handle but not the child's name with the police.
    assert "name" not in document.get("child", {})
    assert document["people"][0]["online_identifiers"] == ["@cash_for_pics_77"]
    stored = raw_column("referrals_referral", "document", queued.pk)
    assert stored and b"cash_for_pics" not in stored and CHILD_NAME.encode() not in stored


def test_a_supervisor_sends_a_failed_referral_again_once_its_cause_is_fixed(
    queued, receiver, client, counsellor, supervisor
):
    from django.test import Client

    from tests.conftest import login_verified

    receiver.secret = "the-receiver-rotated-its-secret"
    first = Delivery.objects.get(referral=queued)
    assert delivery_attempt(delivery_id=first.pk) == "failed"
    plan_url, requeue_url = f"/referrals/case/{queued.case_id}/", f"/referrals/{queued.pk}/requeue/"

    as_counsellor = login_verified(Client(), counsellor)
    assert b"Send again" not in as_counsellor.get(plan_url).content
    assert as_counsellor.post(requeue_url).status_code == 403
    assert Delivery.objects.filter(referral=queued).count() == 1

    as_supervisor = login_verified(client, supervisor)
    assert b"Send again" in as_supervisor.get(plan_url).content
    receiver.secret = SECRET  # the agency and the helpline agree on the secret again
    response = as_supervisor.post(requeue_url, follow=True)
    assert b"Referral queued to be sent again." in response.content
    second = Delivery.objects.exclude(pk=first.pk).get(referral=queued)
    assert Referral.objects.get(pk=queued.pk).status == Status.QUEUED
    assert delivery_attempt(delivery_id=second.pk) == "sent"
    assert len(receiver.referrals) == 1 and Referral.objects.get(pk=queued.pk).status == Status.SENT
    assert queued.events.filter(kind="requeued").count() == 1

    # A referral that did not fail cannot be sent again: the supervisor is told, nothing is queued.
    response = as_supervisor.post(requeue_url, follow=True)
    assert b'<li class="error">A referral that is sent cannot become queued' in response.content
    assert Delivery.objects.filter(referral=queued).count() == 2
