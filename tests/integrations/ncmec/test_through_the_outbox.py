"""A real referral through the referral outbox to the CyberTipline stand-in: the report id NCMEC gave is kept
on the delivery between attempts (the ``remember`` hook), so the next attempt finishes that report instead of
making a second one, and the report id becomes the referral's external reference."""

import pytest
from django.utils import timezone

from referrals.lifecycle import Status
from referrals.models import Delivery, Referral
from referrals.outbox import delivery_attempt
from referrals.services.agencies import agency_update
from referrals.services.referrals import referral_confirm, referral_manual_create
from tests.integrations.ncmec.conftest import USERNAME
from tests.referrals.conftest import active_sop, agencies, case, regions, taxonomy  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(case, agencies, counsellor, cybertipline, settings):  # noqa: F811 - fixtures imported above
    settings.REFERRAL_DELIVERY_RETRY_SECONDS = 30
    agency_update(
        actor=None,
        agency=agencies["ncmec"],
        transport="ncmec",
        transport_config={"base_url": cybertipline.url, "username": USERNAME, "reporter_first_name": "Grace"},
        secrets={"password": cybertipline.password},
    )
    referral = referral_manual_create(
        actor=counsellor,
        case=case,
        agency=agencies["ncmec"],
        reason="The platform is US-based.",
        consent_rule="not_required",
    )
    referral_confirm(actor=counsellor, referral=referral)
    return Referral.objects.get(pk=referral.pk)


def test_the_kept_report_id_survives_a_failed_attempt_and_the_next_one_finishes_it(queued, cybertipline):
    delivery = Delivery.objects.get(referral=queued)
    cybertipline.answer_next("/finish", 1000)  # NCMEC has an internal error finishing,
    cybertipline.drop_next("/retract")  # and the retract never reaches it: the report stays open.

    delivery_attempt(delivery_id=delivery.pk)

    [report_id] = cybertipline.reports
    assert cybertipline.states() == ["open"]
    assert Delivery.objects.get(pk=delivery.pk).progress == {"ncmec_report_id": report_id}
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())

    assert delivery_attempt(delivery_id=delivery.pk) == "sent"

    assert len(cybertipline.calls("/submit")) == 1
    assert cybertipline.states() == ["finished"]
    referral = Referral.objects.get(pk=queued.pk)
    assert referral.status == Status.SENT and referral.external_reference == report_id
    assert Delivery.objects.get(pk=delivery.pk).progress == {}
