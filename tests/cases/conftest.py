"""Shared world for the cases tests: the published taxonomy, the demo line's regions, a web chat in wrap-up."""

import pytest

from cases.services.taxonomy import DEFAULT_DOCUMENT, line_regions_set, taxonomy_document_load, taxonomy_import
from cases.services.wrapups import WrapupValues, wrapup_open
from helpline.models import Staff
from helpline.services.queue import contact_end
from helpline.webchat.services import webchat_endpoint_ensure
from tests.helpline.console.conftest import child_writes, held_by

REGIONS = [{"code": "KE-047", "label": "Nairobi"}, {"code": "KE-001", "label": "Mombasa"}]


def staff_of(user) -> Staff:
    return Staff.objects.get(user=user)


@pytest.fixture
def taxonomy(db):
    return taxonomy_import(actor=None, document=taxonomy_document_load(DEFAULT_DOCUMENT), activate=True)


@pytest.fixture
def regions(demo_line):
    return line_regions_set(actor=None, line=demo_line, regions=REGIONS)


def webchat_in_wrapup(user, line, body="he has my pictures", *, token=None):
    """A web chat ``user`` answered and ended: the contact is in wrap-up."""
    contact = held_by(user, child_writes(webchat_endpoint_ensure(line=line), body, token=token))
    return contact_end(actor=staff_of(user), contact=contact)


@pytest.fixture
def wrapup(counsellor, demo_line, taxonomy, regions):
    """The counsellor's draft wrap-up of an ended web chat."""
    contact = webchat_in_wrapup(counsellor, demo_line)
    return wrapup_open(actor=staff_of(counsellor), contact=contact)


def sextortion_values(**changes) -> WrapupValues:
    values = WrapupValues(
        call_type="data",
        caller_type="child",
        age_band="13-15",
        gender="girl",
        region="KE-047",
        categories=["violence.ocsea.sextortion"],
        risk_level="high",
        child_wants=["talk", "report"],
        actions_taken=["counselling"],
        summary="A man she met online threatens to send her photos to her school",
    )
    for name, value in changes.items():
        setattr(values, name, value)
    return values
