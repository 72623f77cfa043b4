"""Fixtures of the referrals tests: agencies of the directory, an administrator's client."""

import pytest

from tests.conftest import login_verified


@pytest.fixture
def admin_client(client, admin_user):
    return login_verified(client, admin_user)


@pytest.fixture
def police(db):
    from referrals.services.agencies import agency_create

    return agency_create(
        actor=None,
        code="ke-police-nairobi",
        name="Nairobi police",
        kind="police",
        regions=["KE-047"],
        languages=["en", "sw"],
        needs=["violence"],
        fields=["categories", "risk_level", "child", "incident"],
    )


@pytest.fixture
def national_police(db):
    from referrals.services.agencies import agency_create

    return agency_create(
        actor=None,
        code="ke-police-dcs",
        name="National police unit",
        kind="police",
        national=True,
        languages=["en"],
        fields=["categories", "risk_level", "child.age_band"],
    )
