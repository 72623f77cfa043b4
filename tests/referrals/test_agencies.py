"""The agency directory: created and changed by administrators only, audited, secrets sealed and
never shown; authority users belong to one agency; the resource list finds agencies by need,
language and region; demo agencies carry the codes the demo SOP names."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from helpline.audit.models import AuditEvent
from referrals import actions
from referrals.models import Agency, AgencyMembership
from referrals.selectors import agencies_search, agency_for_referral, agency_of
from referrals.services.agencies import agency_create, agency_membership_set, agency_secrets, agency_update
from referrals.transports import transport_register
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

SECRET = "s3cret-signing-key-never-shown"


class _Signed:
    """A transport with one setting and one secret, to test what the directory does with them."""

    name = "test-signed"
    label = "Signed test transport"
    config_fields = ("url",)
    secret_fields = ("signing_secret",)

    def validate_config(self, config, secrets):
        problems = []
        if not config.get("url", "").startswith("https://"):
            problems.append("The address must start with https://.")
        if not secrets.get("signing_secret"):
            problems.append("A signing secret is needed.")
        return problems

    def render(self, request):
        raise NotImplementedError

    def deliver(self, request):
        raise NotImplementedError


@pytest.fixture
def signed_transport():
    return transport_register(_Signed())


def _signed_agency(actor=None, **extra):
    return agency_create(
        actor=actor,
        code="ke-hotline",
        name="Hotline",
        kind="reporting_portal",
        national=True,
        transport="test-signed",
        transport_config={"url": "https://hotline.example/hook"},
        secrets={"signing_secret": SECRET},
        fields=["incident.urls"],
        **extra,
    )


def _raw_secret_column(agency) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT transport_secrets FROM referrals_agency WHERE id = %s", [agency.pk])
        return bytes(cursor.fetchone()[0])


def test_an_administrator_creates_an_agency_and_its_secret_is_sealed_and_never_audited(admin_user, signed_transport):
    agency = _signed_agency(actor=admin_user, reason="New hotline")
    assert SECRET.encode() not in _raw_secret_column(agency)
    assert agency_secrets(Agency.objects.get(pk=agency.pk)) == {"signing_secret": SECRET}
    event = AuditEvent.objects.get(action=actions.AGENCY_CREATED)
    assert event.actor_id == admin_user.pk and event.record_id == str(agency.pk)
    assert SECRET not in json.dumps(event.details) + event.reason


@pytest.mark.parametrize("role", ["counsellor", "supervisor", "authority"])
def test_nobody_but_an_administrator_changes_the_directory(request, role, police):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        agency_create(actor=user, code="x-y", name="X", kind="ngo", national=True)
    with pytest.raises(PermissionDenied):
        agency_update(actor=user, agency=police, fields=["child.name", "child.phone"])
    assert Agency.objects.count() == 1
    assert Agency.objects.get(pk=police.pk).fields == ["categories", "risk_level", "child", "incident"]


def test_bad_entries_are_refused_naming_each_field(admin_user, signed_transport):
    with pytest.raises(ValidationError) as refused:
        agency_create(
            actor=admin_user,
            code="Not A Code",
            name="",
            kind="spy_agency",
            regions=["nairobi"],
            languages=["english"],
            fields=["child.name", "child.diary"],
            transport="test-signed",
            transport_config={"url": "http://plain.example/", "colour": "red"},
        )
    errors = refused.value.message_dict
    assert set(errors) == {"code", "name", "kind", "regions", "languages", "fields", "transport_config"}
    assert "child.diary" in errors["fields"][0] and "child.name" not in errors["fields"][0]
    assert any("colour" in message for message in errors["transport_config"])
    assert "A signing secret is needed." in errors["transport_config"]
    assert not Agency.objects.exists()


def test_an_unknown_delivery_method_is_refused(admin_user):
    with pytest.raises(ValidationError) as refused:
        agency_create(actor=admin_user, code="ke-x", name="X", kind="ngo", national=True, transport="pigeon")
    assert "transport" in refused.value.message_dict


def test_a_duplicate_code_is_refused(admin_user, police):
    with pytest.raises(ValidationError) as refused:
        agency_create(actor=admin_user, code="ke-police-nairobi", name="Again", kind="police", national=True)
    assert "code" in refused.value.message_dict


def test_changing_plain_fields_keeps_the_secret_and_audits_which_fields_changed(admin_user, signed_transport):
    agency = _signed_agency()
    agency_update(actor=admin_user, agency=agency, name="Hotline (renamed)", languages=["en", "sw"], reason="Rename")
    agency = Agency.objects.get(pk=agency.pk)
    assert agency.name == "Hotline (renamed)"
    assert agency_secrets(agency) == {"signing_secret": SECRET}
    event = AuditEvent.objects.get(action=actions.AGENCY_UPDATED)
    assert event.details == {"code": "ke-hotline", "changed": ["languages", "name"]}
    assert not AuditEvent.objects.filter(action=actions.AGENCY_SECRETS_CHANGED).exists()


def test_replacing_a_secret_is_audited_by_name_never_by_value(admin_user, signed_transport):
    agency = _signed_agency()
    agency_update(actor=admin_user, agency=agency, secrets={"signing_secret": "rotated-key-123"}, reason="Rotation")
    assert agency_secrets(Agency.objects.get(pk=agency.pk)) == {"signing_secret": "rotated-key-123"}
    event = AuditEvent.objects.get(action=actions.AGENCY_SECRETS_CHANGED)
    assert event.details == {"code": "ke-hotline", "names": ["signing_secret"]}
    assert "rotated-key-123" not in json.dumps(event.details) + event.reason


def test_a_secret_the_method_does_not_declare_is_not_stored(admin_user, signed_transport):
    agency = _signed_agency()
    agency_update(actor=admin_user, agency=agency, secrets={"password": "smuggled"})
    assert agency_secrets(Agency.objects.get(pk=agency.pk)) == {"signing_secret": SECRET}


def test_an_authority_user_belongs_to_one_agency_and_moving_them_is_audited(
    admin_user, authority, police, national_police
):
    agency_membership_set(actor=admin_user, user=authority, agency=police, reason="Joined")
    assert agency_of(authority) == police
    agency_membership_set(actor=admin_user, user=authority, agency=national_police, reason="Moved")
    assert AgencyMembership.objects.filter(user=authority).count() == 1
    assert agency_of(authority) == national_police
    moved = AuditEvent.objects.filter(action=actions.AGENCY_MEMBERSHIP_SET).order_by("id").last()
    assert moved.subject_id == authority.pk and moved.details == {
        "agency": "ke-police-dcs",
        "previous": "ke-police-nairobi",
    }
    agency_membership_set(actor=admin_user, user=authority, agency=None, reason="Left")
    assert agency_of(authority) is None
    assert AuditEvent.objects.filter(action=actions.AGENCY_MEMBERSHIP_REMOVED, subject_id=authority.pk).exists()


@pytest.mark.parametrize("role", ["counsellor", "supervisor", "admin_user", "outsider"])
def test_only_authority_users_can_belong_to_an_agency(request, admin_user, police, role):
    user = request.getfixturevalue(role)
    with pytest.raises(ValidationError):
        agency_membership_set(actor=admin_user, user=user, agency=police)
    assert not AgencyMembership.objects.exists()


def test_a_counsellor_cannot_put_an_authority_user_into_an_agency(counsellor, authority, police):
    with pytest.raises(PermissionDenied):
        agency_membership_set(actor=counsellor, user=authority, agency=police)
    assert not AgencyMembership.objects.exists()


def test_an_inactive_agency_is_no_ones_agency(admin_user, authority, police):
    agency_membership_set(actor=admin_user, user=authority, agency=police)
    agency_update(actor=admin_user, agency=police, active=False)
    assert agency_of(authority) is None


def test_the_resource_list_finds_agencies_by_need_language_and_region(police, national_police):
    shelter = agency_create(
        actor=None, code="ke-shelter", name="Shelter", kind="shelter", regions=["KE-001"], languages=["sw"], needs=[]
    )
    prevention = agency_create(
        actor=None,
        code="stop-it-now",
        name="Prevention line",
        kind="offender_prevention",
        national=True,
        needs=["sexuality.own_thoughts"],
    )
    sextortion = list(agencies_search(need="violence.ocsea.sextortion"))
    assert police in sextortion and national_police in sextortion and shelter in sextortion
    assert prevention not in sextortion
    assert list(agencies_search(region="KE-047")) == [police, national_police, prevention]  # regional first
    assert list(agencies_search(language="sw", region="KE-001")) == [shelter, prevention]


def test_referral_by_kind_prefers_the_region_and_falls_back_to_the_national_agency(police, national_police):
    assert agency_for_referral(kind="police", region="KE-047") == police
    assert agency_for_referral(kind="police", region="KE-001") == national_police
    assert agency_for_referral(kind="police", region=None) == national_police
    assert agency_for_referral(kind="shelter", region="KE-047") is None


def test_demo_agencies_carry_the_codes_the_demo_sop_names_and_seeding_twice_changes_nothing(demo_line):
    from referrals.demo import demo_agencies

    make_staff("authority", "authority")
    demo_agencies(demo_line)
    demo_agencies(demo_line)
    codes = dict(Agency.objects.values_list("code", "kind"))
    assert codes == {
        "ke-police-dcs": "police",
        "ke-police-nairobi": "police",
        "ke-childrens-services-nairobi": "social_services",
        "ke-dcs-national": "social_services",
        "iwf": "reporting_portal",
        "ncmec": "reporting_portal",
    }
    assert Agency.objects.get(code="ke-police-dcs").national
    assert Agency.objects.get(code="ke-police-nairobi").regions == ["KE-047"]
    assert AgencyMembership.objects.get(user__username="authority").agency.code == "ke-police-nairobi"
    assert AuditEvent.objects.filter(action=actions.AGENCY_CREATED).count() == 6


def test_a_resource_search_naming_no_real_conversation_still_answers_without_a_signpost_button(
    client, counsellor, agencies
):
    from tests.conftest import login_verified

    login_verified(client, counsellor)
    response = client.get("/referrals/resources/?contact=not-a-conversation&region=KE-047")
    assert response.status_code == 200
    assert b"/signpost/" not in response.content and b"not-a-conversation" not in response.content


def test_has_item_matches_whole_items_of_a_json_list(police, national_police):
    # The lookup behind the searches above (helpline.lookups); tests/helpline/test_embedded_run.py runs it on SQLite.
    assert list(Agency.objects.filter(regions__has_item="KE-047")) == [police]
    assert not Agency.objects.filter(regions__has_item="KE-04").exists()  # an item, not a prefix of one
    assert not Agency.objects.filter(regions__has_item='KE-047"]').exists()  # a value, never JSON text
    assert set(Agency.objects.exclude(regions__has_item="KE-047")) == {national_police}
    with pytest.raises(TypeError):
        Agency.objects.filter(regions__has_item=["KE-047"])
