"""Property: whatever an agency may receive and whatever a rule asks to share, the document built for a
real case never carries a field outside the agency's list, and always matches the published schema."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from referrals.document import SCHEMA_PATH, document_build, document_fields_outside
from referrals.document_fields import PARENTS, SHAREABLE_FIELDS, field_paths_expand

pytestmark = pytest.mark.django_db

PATHS = sorted([*SHAREABLE_FIELDS, *PARENTS])
VALIDATOR = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(agency_fields=st.lists(st.sampled_from(PATHS), unique=True), share=st.lists(st.sampled_from(PATHS), unique=True))
def test_a_referral_never_carries_a_field_its_agency_may_not_receive(plan, agency_fields, share):
    referral = plan["ke-police-nairobi"]
    referral.agency.fields = agency_fields
    referral.share = share
    document = document_build(referral=referral, actor=None, purpose="property test")
    assert document_fields_outside(document, field_paths_expand(agency_fields)) == []
    assert list(VALIDATOR.iter_errors(document)) == []
