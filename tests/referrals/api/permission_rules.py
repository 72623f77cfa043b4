"""Who may use each /api/ URL (tests/test_permission_matrix.py). Under /api/v1/ the API key is the
only way in: every actor of the matrix, signed in or not, is refused with 401, and a refusal
records nothing. The schema and its docs are public (they hold no data)."""

import uuid

import pytest

from tests.permissions import everyone, expect


@pytest.fixture
def matrix_api_question():
    return uuid.uuid4()


expect("api:referrals", "get", "/api/v1/referrals/", outcomes=everyone(401))
expect("api:outcome_kinds", "get", "/api/v1/outcome-kinds/", outcomes=everyone(401))
expect("api:referral", "get", "/api/v1/referrals/{referral}/", outcomes=everyone(401))
expect("api:questions", "get", "/api/v1/referrals/{referral}/questions/", outcomes=everyone(401))
for name, data in (
    ("acknowledge", {}),
    ("accept", {"note": "taken"}),
    ("decline", {"reason": "not ours"}),
    ("updates", {"outcome": "investigation_opened"}),
    ("questions", {"text": "Where is she?"}),
):
    expect(f"api:{name}", "post", f"/api/v1/referrals/{{referral}}/{name}/", data=data, outcomes=everyone(401))
expect(
    "api:answer",
    "post",
    "/api/v1/referrals/{referral}/questions/{api_question}/answer/",
    data={"text": "She is safe"},
    outcomes=everyone(401),
)
expect("api:schema", "get", "/api/schema/", outcomes=everyone(200))
expect("api:docs", "get", "/api/docs/", outcomes=everyone(200))
