"""Who may read and answer an agency's question in the console (referrals.views.questions), and see
the lists of what waits (helpline.todo): whoever may see the case (its counsellor and the line's
supervisors); a colleague, another line's supervisor and an authority user are refused."""

import pytest

from tests.permissions import expect, redirect, signed_in

AGENCY_QUESTION = "Is the child still at the address in Kibera?"
CASE = dict(counsellor=200, colleague=404, supervisor=200, far_supervisor=404)


@pytest.fixture
def matrix_agency_question(counsellor, supervisor, demo_line, matrix_protected):
    """The police's question on the referral of the counsellor's case, asked through the portal."""
    from referrals.services.agency_side import referral_question_ask
    from tests.referrals.world import PROTECTED_TEXTS, agency_user, referral_sent, referral_world

    matrix_protected.update(PROTECTED_TEXTS)
    matrix_protected.add(AGENCY_QUESTION)
    _case, plan = referral_world(counsellor, demo_line)
    sent = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    officer = agency_user("officer_q", sent.agency)
    return referral_question_ask(agency=sent.agency, actor=officer, referral=sent, text=AGENCY_QUESTION).pk


# The lists: everyone of a console role has their own (the question shows in the counsellor's only).
expect(
    "helpline:console_todo",
    "get",
    "/console/todo/",
    outcomes=signed_in(403, counsellor=200, colleague=200, supervisor=200, far_supervisor=200),
    uses=("matrix_agency_question",),
)
expect(
    "helpline:supervisor_todo",
    "get",
    "/supervisor/todo/",
    outcomes=signed_in(403, supervisor=200, far_supervisor=200),
    uses=("matrix_agency_question",),
)
# Read and answered by whoever may see the case; without htmx the answer goes back to the console.
for htmx, answered in ((True, 200), (False, redirect("/console/"))):
    expect(
        "referrals:question",
        "get",
        "/referrals/questions/{agency_question}/",
        htmx=htmx,
        outcomes=signed_in(403, **CASE),
    )
    expect(
        "referrals:question_answer",
        "post",
        "/referrals/questions/{agency_question}/answer/",
        data={"text": "Yes, with her aunt"},
        htmx=htmx,
        outcomes=signed_in(403, **{**CASE, "counsellor": answered, "supervisor": answered}),
    )
