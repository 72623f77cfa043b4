"""Who may use each referrals URL (collected by tests/test_permission_matrix.py; see tests/permissions.py).

A case's referral plan and its decisions belong to whoever may see the case: its counsellor and
the line's supervisors (a colleague or another line's supervisor gets 404). Deciding a plan's
approval, and marking the SOP's notice seen, are for a supervisor of the line (deciding: one who
did not ask). Authority users see their agency's inbox only, and in the portal only referrals sent
to that agency (another agency's is a 404 on every portal URL); the resource list is for counsellors
and supervisors; signposting is written on a conversation by the person holding it.
"""

import pytest

from tests.permissions import expect, redirect, signed_in
from tests.referrals.world import PROTECTED_TEXTS, referral_world


@pytest.fixture
def matrix_referral_world(counsellor, demo_line, matrix_protected):
    matrix_protected.update(PROTECTED_TEXTS)
    return referral_world(counsellor, demo_line)


@pytest.fixture
def matrix_referral_case(matrix_referral_world):
    return matrix_referral_world[0].pk


@pytest.fixture
def matrix_referral(matrix_referral_world):
    """The police proposal of the counsellor's case."""
    return matrix_referral_world[1]["ke-police-nairobi"].pk


@pytest.fixture
def matrix_referral_approval(matrix_referral_world, counsellor):
    """The case's plan approval, asked by the counsellor (a consent override for the police)."""
    from referrals.models import Referral
    from referrals.services.referrals import referral_confirm, referral_override_request

    police = matrix_referral_world[1]["ke-police-nairobi"]
    referral_confirm(actor=counsellor, referral=police)
    referral_override_request(actor=counsellor, referral=police, reason="Asking would put her at risk")
    return Referral.objects.get(pk=police.pk).approval_id


@pytest.fixture
def matrix_referral_notice(matrix_referral_world):
    """The demo SOP's notice to the line's supervisors about the counsellor's case."""
    from referrals.models import Notice

    return Notice.objects.get(case=matrix_referral_world[0]).pk


@pytest.fixture
def matrix_referral_offer(matrix_referral_world):
    """A Report Remove offer on the counsellor's case (no agency makes the hand-off: nothing leaves)."""
    from referrals.models import Offer

    return Offer.objects.create(
        case=matrix_referral_world[0], sop_name="demo", sop_version=1, rule_id="self-generated", offer="report_remove"
    ).pk


@pytest.fixture
def matrix_signpost_agency(db):
    from referrals.services.agencies import agency_create

    return agency_create(actor=None, code="ke-shelter", name="Shelter", kind="shelter", national=True).pk


CASE_OUTCOMES = dict(counsellor=200, colleague=404, supervisor=200, far_supervisor=404)


def _plan_redirect():
    return redirect("/referrals/case/")


def _post(name, path, data=None, **extra):
    expect(
        f"referrals:{name}",
        "post",
        path,
        data=data or {},
        outcomes=signed_in(
            403,
            counsellor=_plan_redirect(),
            colleague=404,
            supervisor=_plan_redirect(),
            far_supervisor=404,
            **extra,
        ),
    )


expect("referrals:inbox", "get", "/authority/", outcomes=signed_in(403, authority=200))
expect(
    "referrals:attention", "get", "/referrals/attention/", outcomes=signed_in(403, supervisor=200, far_supervisor=200)
)
expect(
    "referrals:resources",
    "get",
    "/referrals/resources/?need=violence.ocsea.sextortion&region=KE-047",
    outcomes=signed_in(403, counsellor=200, colleague=200, supervisor=200, far_supervisor=200),
)
expect(
    "referrals:signpost",
    "post",
    "/referrals/signpost/{held}/{signpost_agency}/",
    outcomes=signed_in(403, counsellor=200, colleague=404, supervisor=404, far_supervisor=404),
)
expect("referrals:plan", "get", "/referrals/case/{referral_case}/", outcomes=signed_in(403, **CASE_OUTCOMES))
_post(
    "manual",
    "/referrals/case/{referral_case}/manual/",
    {"agency": "{signpost_agency}", "urgency": "routine", "reason": "She asked for a safe place"},
)
_post("confirm", "/referrals/{referral}/confirm/")
_post("dismiss", "/referrals/{referral}/dismiss/", {"reason": "The child asked us not to"})
_post("edit", "/referrals/{referral}/edit/", {"urgency": "urgent", "share": "child.age_band"})
_post("consent", "/referrals/{referral}/consent/", {"by": "child", "method": "verbal"})
_post("override", "/referrals/{referral}/override/", {"reason": "Asking would put her at risk"})
_post("withdraw", "/referrals/{referral}/withdraw/", {"reason": "Sent by mistake"})
_post("offer_link", "/referrals/offers/{referral_offer}/link/", {"age_range": "13-15"})
expect(
    "referrals:notice_seen",
    "post",
    "/referrals/notices/{referral_notice}/seen/",
    outcomes=signed_in(403, supervisor=redirect("/supervisor/"), far_supervisor=404),
)
expect(
    "referrals:requeue",
    "post",
    "/referrals/{referral}/requeue/",
    # The police proposal is not failed: a supervisor of the line is told so on the plan.
    outcomes=signed_in(403, supervisor=_plan_redirect(), far_supervisor=404),
)
expect(
    "referrals:decide",
    "post",
    "/referrals/approvals/{referral_approval}/decide/",
    data={"decision": "approve", "reason": "Agreed"},
    outcomes=signed_in(403, supervisor=_plan_redirect(), far_supervisor=404),
)


# --- the agency portal: the authority user's own agency only -------------------------------------

PORTAL_QUESTION = "Is the aunt still at the Kibera address?"


@pytest.fixture
def matrix_portal_sent(matrix_referral_world, counsellor, supervisor, authority):
    """The police and social-services referrals sent; the matrix's authority user works for the police."""
    from referrals.services.agencies import agency_membership_set
    from tests.referrals.world import referral_sent

    plan = matrix_referral_world[1]
    police = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    social = referral_sent(plan["ke-childrens-services-nairobi"], counsellor=counsellor, supervisor=supervisor)
    agency_membership_set(actor=None, user=authority, agency=police.agency)
    return police, social


@pytest.fixture
def matrix_portal_referral(matrix_portal_sent):
    return matrix_portal_sent[0].pk


@pytest.fixture
def matrix_portal_foreign(matrix_portal_sent):
    """A referral sent to another agency than the authority user's."""
    return matrix_portal_sent[1].pk


def _portal_question(referral, counsellor, matrix_protected):
    from referrals.services import referral_question_ask

    matrix_protected.add(PORTAL_QUESTION)
    return referral_question_ask(actor=counsellor, referral=referral, text=PORTAL_QUESTION).pk


@pytest.fixture
def matrix_portal_question(matrix_portal_sent, counsellor, matrix_protected):
    return _portal_question(matrix_portal_sent[0], counsellor, matrix_protected)


@pytest.fixture
def matrix_portal_foreign_question(matrix_portal_sent, counsellor, matrix_protected):
    return _portal_question(matrix_portal_sent[1], counsellor, matrix_protected)


PORTAL_STEPS = (
    ("portal_acknowledge", "acknowledge/", {}),
    ("portal_accept", "accept/", {"note": "Taken on by the desk"}),
    ("portal_decline", "decline/", {"reason": "Outside our county"}),
    ("portal_update", "updates/", {"outcome": "investigation_opened", "note": "Officer assigned"}),
    ("portal_ask", "questions/", {"text": "Which school does she go to?"}),
    ("portal_answer", "questions/{%s}/answer/", {"text": "She is safe tonight"}),
)

for key, foreign in (("portal_referral", False), ("portal_foreign", True)):
    mine = 404 if foreign else 200
    expect(
        "referrals:portal_referral",
        "get",
        f"/authority/referrals/{{{key}}}/",
        outcomes=signed_in(403, authority=mine),
    )
    question = "portal_foreign_question" if foreign else "portal_question"
    for name, step, data in PORTAL_STEPS:
        expect(
            f"referrals:{name}",
            "post",
            f"/authority/referrals/{{{key}}}/" + (step % question if "%s" in step else step),
            data=data,
            outcomes=signed_in(403, authority=404 if foreign else redirect("/authority/referrals/")),
        )
