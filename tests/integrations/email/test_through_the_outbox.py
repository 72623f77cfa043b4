"""A real referral through the referral outbox to an agency with the e-mail notice: the agency's addresses get
one notice with the portal link, and nothing of the case, whatever fields the agency may receive."""

import pytest
from django.core import mail

from referrals.lifecycle import Status
from referrals.models import Delivery, Referral
from referrals.outbox import delivery_attempt
from referrals.services.agencies import agency_update
from referrals.services.referrals import referral_confirm, referral_manual_create
from tests.referrals.conftest import PROTECTED, active_sop, agencies, case, regions, taxonomy  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_the_notice_of_a_real_referral_holds_no_case_content(case, agencies, counsellor, settings):  # noqa: F811
    settings.PUBLIC_BASE_URL = "https://helpline.example.org"
    agency = agencies["ke-police-dcs"]
    agency_update(actor=None, agency=agency, transport="email", transport_config={"recipients": "duty@dci.example"})
    referral = referral_manual_create(
        actor=counsellor, case=case, agency=agency, reason="National unit on duty.", consent_rule="not_required"
    )
    referral_confirm(actor=counsellor, referral=referral)
    mail.outbox.clear()

    assert delivery_attempt(delivery_id=Delivery.objects.get(referral=referral).pk) == "sent"

    [notice] = mail.outbox
    assert notice.to == ["duty@dci.example"] and "https://helpline.example.org/authority/" in notice.body
    everything = str(notice.message())
    for value in [*PROTECTED, case.reference, "instagram"]:
        assert value not in everything
    assert Referral.objects.get(pk=referral.pk).status == Status.SENT
