"""Who may use each SOP page (collected by tests/test_permission_matrix.py; see tests/permissions.py).

Only administrators configure SOPs; every other role is refused, and a refusal changes nothing.
"""

import pytest

from referrals.sop.services import sop_draft_save, sop_import
from tests.permissions import expect, redirect, signed_in

MATRIX_SOP = "sop: matrix\nrules:\n  - id: high\n    when: {risk_level: high}\n    then: [{notify: supervisors}]\n"
FACTS = "risk_level: high\n"


@pytest.fixture
def matrix_sop_line(demo_line):
    return demo_line.slug


@pytest.fixture
def matrix_sop_draft(demo_line):
    sop_import(actor=None, line=demo_line, text=MATRIX_SOP, activate=True)
    return sop_draft_save(actor=None, line=demo_line, text=MATRIX_SOP).pk


@pytest.fixture
def matrix_sop_text():
    return MATRIX_SOP


ADMIN_ONLY = signed_in(403, admin=200)

expect("sop:index", "get", "/sop/", outcomes=ADMIN_ONLY, uses=("matrix_sop_draft",))
expect("sop:check", "post", "/sop/check/", data={"text": "{sop_text}", "line": "{sop_line}"}, outcomes=ADMIN_ONLY)
expect("sop:check", "get", "/sop/check/", outcomes=signed_in(403, admin=405))
expect(
    "sop:dry_run",
    "post",
    "/sop/dry-run/",
    data={"text": "{sop_text}", "line": "{sop_line}", "facts": FACTS},
    outcomes=ADMIN_ONLY,
)
# Against a real case (by reference, tests/cases/permission_rules.py's case): facts only, audited when allowed.
expect(
    "sop:dry_run",
    "post",
    "/sop/dry-run/",
    data={"text": "{sop_text}", "line": "{sop_line}", "case": "{sv_reference}"},
    outcomes=ADMIN_ONLY,
)
expect("sop:draft_new", "get", "/sop/line/{sop_line}/new/", outcomes=ADMIN_ONLY)
expect("sop:draft_new", "get", "/sop/line/no-such-line/new/", outcomes=signed_in(403, admin=404))
expect(
    "sop:draft_new",
    "post",
    "/sop/line/{sop_line}/new/",
    data={"text": "{sop_text}", "reason": "matrix"},
    outcomes=signed_in(403, admin=redirect("/sop/v/")),
)
expect("sop:compare", "get", "/sop/line/{sop_line}/compare/", outcomes=ADMIN_ONLY, uses=("matrix_sop_draft",))
expect("sop:version", "get", "/sop/v/{sop_draft}/", outcomes=ADMIN_ONLY)
expect(
    "sop:version",
    "post",
    "/sop/v/{sop_draft}/",
    data={"text": "{sop_text}", "reason": "matrix"},
    outcomes=signed_in(403, admin=redirect("/sop/v/")),
)
expect("sop:activate", "get", "/sop/v/{sop_draft}/activate/", outcomes=ADMIN_ONLY)
expect(
    "sop:activate",
    "post",
    "/sop/v/{sop_draft}/activate/",
    data={"reason": "matrix"},
    outcomes=signed_in(403, admin=redirect("/sop/")),
)
