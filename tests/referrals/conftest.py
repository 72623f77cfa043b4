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


# --- a case the demo SOP proposes referrals for --------------------------------------------------

CHILD_NAME = "Amani Wanjiru"
CHILD_PHONE = "+254711000222"
PERPETRATOR_HANDLE = "@cash_for_pics_77"
SUMMARY = "A man she met online threatens to send her photos to her school"
PROTECTED = [CHILD_NAME, "Wanjiru", CHILD_PHONE, "711000222", PERPETRATOR_HANDLE, SUMMARY, "send her photos"]


@pytest.fixture
def agencies(demo_line):
    from referrals.demo import DEMO_AGENCIES
    from referrals.models import Agency
    from referrals.services.agencies import agency_create

    for entry in DEMO_AGENCIES:
        agency_create(actor=None, **entry)
    return {agency.code: agency for agency in Agency.objects.all()}


@pytest.fixture
def active_sop(demo_line):
    from referrals.sop.demo import sop_demo_load

    sop_demo_load(demo_line)


def sextortion_case(counsellor, demo_line, **values):
    """A finished wrap-up of a web chat about sextortion at high risk, its case, the child and the man."""
    from cases.services.cases import case_facts_update, case_open
    from cases.services.people import case_person_add
    from cases.services.wrapups import wrapup_finalise, wrapup_open
    from tests.cases.conftest import sextortion_values, staff_of, webchat_in_wrapup

    staff = staff_of(counsellor)
    contact = webchat_in_wrapup(counsellor, demo_line)
    wrapup = wrapup_open(actor=staff, contact=contact)
    wrapup_finalise(actor=staff, wrapup=wrapup, values=sextortion_values(**values))
    case = case_open(actor=staff, wrapup=wrapup)
    case_person_add(
        actor=staff,
        case=case,
        role="child",
        age_band=values.get("age_band", "13-15"),
        gender="girl",
        region=values.get("region", "KE-047"),
        name=CHILD_NAME,
        phone=CHILD_PHONE,
    )
    case_person_add(
        actor=staff,
        case=case,
        role="alleged_perpetrator",
        relationship="stranger_online",
        age_band="18+",
        online_identifiers=PERPETRATOR_HANDLE,
    )
    case_facts_update(actor=staff, case=case, platform="instagram", summary=SUMMARY)
    return case


@pytest.fixture
def case(counsellor, demo_line, taxonomy, regions, agencies, active_sop):
    return sextortion_case(counsellor, demo_line)


@pytest.fixture
def plan(case):
    """The referrals the demo SOP proposes for the case: {agency code: referral}."""
    from referrals.services.referrals import referrals_propose

    referrals_propose(case_id=case.pk)
    return {referral.agency.code: referral for referral in case.referrals.select_related("agency")}


@pytest.fixture
def taxonomy(db):
    from cases.services.taxonomy import DEFAULT_DOCUMENT, taxonomy_document_load, taxonomy_import

    return taxonomy_import(actor=None, document=taxonomy_document_load(DEFAULT_DOCUMENT), activate=True)


@pytest.fixture
def regions(demo_line):
    from cases.services.taxonomy import line_regions_set
    from tests.cases.conftest import REGIONS

    return line_regions_set(actor=None, line=demo_line, regions=REGIONS)


@pytest.fixture
def second_supervisor(demo_line):
    from tests.conftest import make_staff

    return make_staff("secondsupervisor", "supervisor", line=demo_line)


def raw_column(table: str, column: str, pk) -> bytes:
    """What the database holds in a column, as a copy of it would show."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - test-only names
        value = cursor.fetchone()[0]
    return bytes(value) if value is not None else b""


# --- a referral at the agency (the agency side, the portal, the API) ----------------------------------

QUESTION = "Does the child still live with her aunt in Kibera?"
ANSWER = "Yes, at the same address since March"
NOTE = "Officer Achieng visited the family on Tuesday"


@pytest.fixture
def sent(plan, counsellor, supervisor):
    """The police referral of the plan, sent through the portal transport (tests.referrals.world)."""
    from tests.referrals.world import referral_sent

    return referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)


def referral_state(referral) -> tuple:
    """What any step on a referral changes: to compare before and after a step that must change nothing."""
    from referrals.models import Referral, ReferralEvent, ReferralQuestion

    fresh = Referral.objects.get(pk=referral.pk)
    return (
        fresh.status,
        fresh.outcome_kind_id,
        fresh.updated_at,
        ReferralEvent.objects.filter(referral=referral).count(),
        list(
            ReferralQuestion.objects.filter(referral=referral)
            .order_by("asked_at")
            .values_list("answered_at", flat=True)
        ),
    )


@pytest.fixture
def receiver(fake_http, agencies):
    """A signed-webhook receiver on 127.0.0.1 that the Nairobi police agency delivers to."""
    from tests.integrations.webhook.conftest import PATH, Receiver

    server = fake_http()
    receiver = Receiver(server=server)
    server.route("POST", PATH, receiver.handle)
    receiver.serve(agencies["ke-police-nairobi"])
    return receiver
