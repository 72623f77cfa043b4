"""Who may use each cases URL (collected by tests/test_permission_matrix.py; see tests/permissions.py).

Part A (the wrap-up pane, contacts logged by hand, the case page): a counsellor reaches the
cases assigned to them, opened by them or linked to a contact they handled; a supervisor
every case of their lines; administrators, authority users and people without a role none.
Only a supervisor of the line raises or removes flags. The wrap-up belongs to whoever holds
the conversation (helpline.selectors.contacts_writable_by). A case out of reach is a 404.
"""

import pytest

from cases.models import Case
from cases.services.approvals import case_close_request
from cases.services.cases import case_open
from cases.services.flags import case_flag_raise
from cases.services.notes import case_note_add
from cases.services.people import case_person_add
from cases.services.taxonomy import DEFAULT_DOCUMENT, taxonomy_document_load, taxonomy_import
from cases.services.wrapups import wrapup_finalise, wrapup_open
from helpline.models import Staff
from helpline.services.queue import contact_end
from helpline.webchat.services import webchat_endpoint_ensure
from tests.cases.conftest import sextortion_values
from tests.cases.supervision_world import case_make
from tests.helpline.console.conftest import child_writes, held_by
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


# --- Part A: the wrap-up pane, contacts logged by hand, the case page -------------------

CHILD_NAME = "Zawadi Matrix-Child"
NOTE_TEXT = "Matrix note: she is hiding at the neighbour's"
FLAG_TEXT = "Matrix flag: call her back before school"

THIS_CASE = {"counsellor": 200, "colleague": 404, "supervisor": 200, "far_supervisor": 404}
WRITES = {
    "counsellor": redirect("/cases/"),
    "colleague": 404,
    "supervisor": redirect("/cases/"),
    "far_supervisor": 404,
}
SUPERVISOR_WRITES = {"counsellor": 403, "colleague": 403, "supervisor": redirect("/cases/"), "far_supervisor": 404}
HOLDER = {"counsellor": 200, "colleague": 404, "supervisor": 404, "far_supervisor": 404}


@pytest.fixture
def matrix_case(counsellor, demo_line, matrix_protected):
    """A case the counsellor opened from a web chat they ended: a child, a note."""
    taxonomy_import(actor=None, document=taxonomy_document_load(DEFAULT_DOCUMENT), activate=True)
    staff = Staff.objects.get(user=counsellor)
    contact = held_by(counsellor, child_writes(webchat_endpoint_ensure(line=demo_line), "he sent me pictures"))
    contact = contact_end(actor=staff, contact=contact)
    wrapup = wrapup_open(actor=staff, contact=contact)
    wrapup_finalise(actor=staff, wrapup=wrapup, values=sextortion_values(region=""))
    case = case_open(actor=staff, wrapup=wrapup)
    case_person_add(actor=staff, case=case, role="child", name=CHILD_NAME, age=14)
    case_note_add(actor=staff, case=case, body=NOTE_TEXT)
    matrix_protected.update({CHILD_NAME, NOTE_TEXT})
    return case.pk


@pytest.fixture
def matrix_flag(matrix_case, supervisor, matrix_protected):
    from cases.models import Case

    matrix_protected.add(FLAG_TEXT)
    flag = case_flag_raise(
        actor=Staff.objects.get(user=supervisor), case=Case.objects.get(pk=matrix_case), message=FLAG_TEXT
    )
    return flag.pk


@pytest.fixture
def matrix_person(matrix_case):
    """The child on the counsellor's case (added by the counsellor)."""
    from cases.models import CasePerson

    return CasePerson.objects.get(case_id=matrix_case).pk


@pytest.fixture
def matrix_line_pk(demo_line):
    return demo_line.pk


# --- the wrap-up pane (the counsellor holds {held}) ------------------------------------------

expect(
    "cases:wrapup_save", "post", "/cases/wrapup/{held}/", data={"summary": "draft"}, outcomes=signed_in(403, **HOLDER)
)
expect(
    "cases:wrapup_finish",
    "post",
    "/cases/wrapup/{held}/finish/",
    data={"call_type": "silent"},
    outcomes=signed_in(403, **HOLDER),
)
expect(
    "cases:wrapup_case_open",
    "post",
    "/cases/wrapup/{held}/case/",
    data={"call_type": "data"},
    outcomes=signed_in(403, **HOLDER),
)
expect(
    "cases:wrapup_case_link",
    "post",
    "/cases/wrapup/{held}/link/",
    data={"call_type": "data", "case": "{case}"},
    outcomes=signed_in(403, **HOLDER),
)

# --- contacts logged by hand -------------------------------------------------------------------

LINE_STAFF = {"counsellor": 200, "colleague": 200, "supervisor": 200, "far_supervisor": 200}
expect("cases:contact_log", "get", "/cases/log/", outcomes=signed_in(403, **LINE_STAFF))
expect(
    "cases:contact_log",
    "post",
    "/cases/log/",
    data={"line": "{line_pk}", "channel": "phone", "call_type": "silent", "counsellor": "{colleague}"},
    # The far supervisor's form offers only their own line: the post is shown back, nothing logged.
    outcomes=signed_in(
        403,
        counsellor=redirect("/cases/log/"),
        colleague=redirect("/cases/log/"),
        supervisor=redirect("/cases/log/"),
        far_supervisor=200,
    ),
    htmx=False,
)

# --- the case page -----------------------------------------------------------------------------

expect("cases:case_detail", "get", "/cases/{case}/", outcomes=signed_in(403, **THIS_CASE))
expect("cases:case_print", "get", "/cases/{case}/print/", outcomes=signed_in(403, **THIS_CASE))
for url_name, path, data in [
    ("case_person_add", "/cases/{case}/people/", {"role": "caregiver", "relationship": "parent"}),
    ("case_note_add", "/cases/{case}/notes/", {"body": "Called back"}),
    ("case_facts", "/cases/{case}/facts/", {"risk_level": "imminent"}),
    ("case_status", "/cases/{case}/status/", {"to_status": "in_progress"}),
]:
    expect(f"cases:{url_name}", "post", path, data=data, outcomes=signed_in(403, **WRITES))
# People on the case: changed by whoever works on it; removed (with a reason) by the case's
# counsellor, the person's adder or a supervisor of the line (tests/cases/test_people.py has the
# break-glass supervisor, who may change but not remove).
expect(
    "cases:case_person_edit",
    "post",
    "/cases/{case}/people/{person}/",
    data={"role": "child", "name": "Amani W."},
    outcomes=signed_in(403, **WRITES),
)
expect(
    "cases:case_person_remove",
    "post",
    "/cases/{case}/people/{person}/remove/",
    data={"reason": "Added to the wrong case"},
    outcomes=signed_in(403, **WRITES),
)
expect(
    "cases:case_flag_raise",
    "post",
    "/cases/{case}/flags/",
    data={"message": "Check in today"},
    outcomes=signed_in(403, **SUPERVISOR_WRITES),
)
expect(
    "cases:case_flag_remove",
    "post",
    "/cases/{case}/flags/{flag}/remove/",
    outcomes=signed_in(403, **SUPERVISOR_WRITES),
)
