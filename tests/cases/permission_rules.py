"""Who may use each cases URL (collected by tests/test_permission_matrix.py; see tests/permissions.py)."""

import pytest

from cases.models import Case
from cases.services.approvals import case_close_request
from helpline.models import Staff
from tests.cases.supervision_world import case_make
from tests.permissions import expect, redirect, signed_in

# --- Part B: lists, supervision, approvals, break glass ----------------------------------
#
# The rule (cases.selectors.access): a counsellor reaches the cases assigned to them (here
# the counsellor's; the colleague's is another counsellor of the same line and gets 404);
# a supervisor every case of their lines, and one of another line only through break glass;
# administrators, authority users and people without a role none (403). Deciding a request
# is for a supervisor of the case's line who did not ask for it.

CLOSURE_REASON = "Amina is safe with her aunt in Kisumu"
OWN_CLOSURE_REASON = "Supervisor's own request about Baraka"


def _staff(user) -> Staff:
    return Staff.objects.get(user=user)


@pytest.fixture
def matrix_sv_case(demo_line, counsellor, supervisor, far_supervisor, colleague):
    """An open case of the demo line assigned to the counsellor."""
    return case_make(line=demo_line, counsellor=counsellor).pk


@pytest.fixture
def matrix_sv_reference(matrix_sv_case):
    return Case.objects.get(pk=matrix_sv_case).reference


@pytest.fixture
def matrix_sv_approval(demo_line, counsellor, supervisor, far_supervisor, colleague, matrix_protected):
    """A closure the counsellor asked for on another case of theirs."""
    case = case_make(line=demo_line, counsellor=counsellor)
    matrix_protected.add(CLOSURE_REASON)
    return case_close_request(actor=_staff(counsellor), case=case, reason=CLOSURE_REASON).pk


@pytest.fixture
def matrix_sv_own_approval(demo_line, counsellor, supervisor, far_supervisor, colleague, matrix_protected):
    """A closure the line's supervisor asked for themselves: they cannot decide it."""
    case = case_make(line=demo_line, counsellor=counsellor)
    matrix_protected.add(OWN_CLOSURE_REASON)
    return case_close_request(actor=_staff(supervisor), case=case, reason=OWN_CLOSURE_REASON).pk


ROLES_WITH_CASES = {"counsellor": 200, "colleague": 200, "supervisor": 200, "far_supervisor": 200}
SUPERVISORS = {"supervisor": 200, "far_supervisor": 200}

expect("cases:case_list", "get", "/cases/", outcomes=signed_in(403, **ROLES_WITH_CASES))
expect(
    "cases:case_list",
    "get",
    "/cases/?q={sv_reference}&status=open",
    outcomes=signed_in(403, **ROLES_WITH_CASES),
)
expect("cases:supervision", "get", "/cases/supervision/", outcomes=signed_in(403, **SUPERVISORS))

expect(
    "cases:case_close_request",
    "get",
    "/cases/{sv_case}/close/",
    outcomes=signed_in(403, counsellor=200, colleague=404, supervisor=200, far_supervisor=404),
)
expect(
    "cases:case_close_request",
    "post",
    "/cases/{sv_case}/close/",
    data={"reason": "Safe now; school counsellor follows up"},
    outcomes=signed_in(
        403,
        counsellor=redirect("/cases/"),
        colleague=404,
        supervisor=redirect("/cases/"),
        far_supervisor=404,
    ),
)
expect(
    "cases:case_close_request",
    "post",
    "/cases/{sv_case}/close/",
    data={"reason": ""},
    outcomes=signed_in(403, counsellor=422, colleague=404, supervisor=422, far_supervisor=404),
)

expect(
    "cases:case_reassign",
    "get",
    "/cases/{sv_case}/reassign/",
    outcomes=signed_in(403, supervisor=200, far_supervisor=404),
)
expect(
    "cases:case_reassign",
    "post",
    "/cases/{sv_case}/reassign/",
    data={"to": "{colleague}"},
    outcomes=signed_in(403, supervisor=redirect("/cases/"), far_supervisor=404),
)

expect(
    "cases:approval_decide",
    "post",
    "/cases/approvals/{sv_approval}/decide/",
    data={"decision": "approve", "reason": ""},
    outcomes=signed_in(403, supervisor=redirect("/cases/supervision/"), far_supervisor=404),
)
expect(
    "cases:approval_decide",
    "post",
    "/cases/approvals/{sv_approval}/decide/",
    data={"decision": "reject", "reason": "A home visit first"},
    outcomes=signed_in(403, supervisor=redirect("/cases/supervision/"), far_supervisor=404),
)
# Self-approval: the supervisor who asked is refused, and nothing changes.
expect(
    "cases:approval_decide",
    "post",
    "/cases/approvals/{sv_own_approval}/decide/",
    data={"decision": "approve", "reason": ""},
    outcomes=signed_in(403, supervisor=403, far_supervisor=404),
)

expect("cases:break_glass", "get", "/cases/break-glass/", outcomes=signed_in(403, **SUPERVISORS))
expect(
    "cases:break_glass",
    "post",
    "/cases/break-glass/",
    data={"reference": "{sv_reference}", "reason": "The child moved here; her line is closed tonight"},
    # The line's own supervisor needs no glass: straight to the case, nothing recorded.
    outcomes=signed_in(403, supervisor=redirect("/cases/"), far_supervisor=redirect("/cases/")),
)
expect(
    "cases:break_glass",
    "post",
    "/cases/break-glass/",
    data={"reference": "{sv_reference}", "reason": "need"},
    outcomes=signed_in(403, supervisor=422, far_supervisor=422),
)
