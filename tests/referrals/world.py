"""A referrals world built by plain functions (for the permission matrix, benchmarks and browser tests)."""

from tests.referrals.conftest import CHILD_NAME, SUMMARY, sextortion_case


def referral_world(counsellor, demo_line):
    """The published taxonomy, the line's regions, the demo agencies and SOP, and the counsellor's
    sextortion case with its proposed plan. Returns (case, {agency code: referral})."""
    from cases.services.taxonomy import DEFAULT_DOCUMENT, line_regions_set, taxonomy_document_load, taxonomy_import
    from referrals.demo import DEMO_AGENCIES
    from referrals.models import Agency
    from referrals.services.agencies import agency_create
    from referrals.services.referrals import referrals_propose
    from referrals.sop.demo import sop_demo_load
    from tests.cases.conftest import REGIONS

    taxonomy_import(actor=None, document=taxonomy_document_load(DEFAULT_DOCUMENT), activate=True)
    line_regions_set(actor=None, line=demo_line, regions=REGIONS)
    existing = set(Agency.objects.values_list("code", flat=True))
    for entry in DEMO_AGENCIES:
        if entry["code"] not in existing:
            agency_create(actor=None, **entry)
    sop_demo_load(demo_line)
    case = sextortion_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    return case, {referral.agency.code: referral for referral in case.referrals.select_related("agency")}


PROTECTED_TEXTS = (CHILD_NAME, SUMMARY)


def referral_sent(referral, *, counsellor, supervisor):
    """The police referral of the plan confirmed, its consent override approved by the supervisor and
    delivered through the portal transport: sent, waiting in the agency's inbox."""
    from referrals.models import Delivery, Referral
    from referrals.outbox import delivery_attempt
    from referrals.services.referrals import referral_confirm, referral_override_request, referral_plan_decide

    referral_confirm(actor=counsellor, referral=referral)
    referral_override_request(actor=counsellor, referral=referral, reason="Asking would put her at risk")
    referral_plan_decide(
        actor=supervisor, approval=Referral.objects.get(pk=referral.pk).approval, approve=True, reason="Agreed"
    )
    delivery_attempt(delivery_id=Delivery.objects.get(referral=referral).pk)
    sent = Referral.objects.select_related("agency", "case").get(pk=referral.pk)
    assert sent.status == "sent", sent.status
    return sent


def agency_user(username, agency, *, email: str = ""):
    """An authority user (password and enrolled authenticator) who works for ``agency`` (``email``: where
    the portal's notices reach them)."""
    from referrals.services.agencies import agency_membership_set
    from tests.conftest import make_staff

    user = make_staff(username, "authority")
    agency_membership_set(actor=None, user=user, agency=agency)
    if email:
        type(user).objects.filter(pk=user.pk).update(email=email)
        user.email = email
    return user


def outcome_kinds_seed() -> None:
    """The starting list of outcomes (migration referrals.0003 writes it): a transactional test's flush
    empties the table, so a browser test that records an outcome puts the list back first."""
    from importlib import import_module

    from referrals.models import OutcomeKind

    for code, label, final, order in import_module("referrals.migrations.0003_agency_side").SEED:
        OutcomeKind.objects.get_or_create(code=code, defaults={"label": label, "final": final, "order": order})
