"""The agency pages of the admin: saved through the services, secrets write-only, never shown back."""

import pytest

from helpline.audit.models import AuditEvent
from referrals import actions
from referrals.models import Agency, AgencyMembership
from referrals.services.agencies import agency_secrets

pytestmark = pytest.mark.django_db


def agency_form(**changes):
    data = {
        "code": "ke-ngo",
        "name": "Child rights NGO",
        "kind": "ngo",
        "description": "",
        "active": "on",
        "regions": "KE-047, KE-001",
        "languages": "en sw",
        "needs": "violence",
        "phone": "",
        "email": "",
        "website": "",
        "address": "",
        "hours": "",
        "transport": "portal",
        "transport_config": "",
        "secrets": "",
        "fields": ["child.age_band", "incident.summary"],
        "reason": "Added to the directory",
    }
    data.update(changes)
    return data


def signed_agency_form(agency, transport, secret):
    return agency_form(
        code=agency.code,
        name=agency.name,
        kind="police",
        transport=transport,
        transport_config="url = https://police.example/hook",
        secrets=f"signing_secret = {secret}",
        fields=["child.age_band"],
    )


def test_an_administrator_adds_an_agency_through_the_service(admin_client, admin_user):
    response = admin_client.post("/admin/referrals/agency/add/", agency_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    agency = Agency.objects.get(code="ke-ngo")
    assert agency.regions == ["KE-047", "KE-001"] and agency.languages == ["en", "sw"]
    assert agency.fields == ["child.age_band", "incident.summary"]
    event = AuditEvent.objects.get(action=actions.AGENCY_CREATED)
    assert event.actor_id == admin_user.pk and event.reason == "Added to the directory"


def test_a_bad_region_is_explained_on_the_form_and_nothing_is_saved(admin_client):
    response = admin_client.post("/admin/referrals/agency/add/", agency_form(regions="Nairobi"))
    assert response.status_code == 200
    assert "a region code looks like KE or KE-047" in response.content.decode()
    assert not Agency.objects.exists()


def test_a_secret_typed_in_is_stored_sealed_and_the_change_page_never_shows_it(admin_client, police):
    from referrals.transports import transport_register
    from tests.referrals.test_agencies import _Signed

    transport_register(_Signed())
    url = f"/admin/referrals/agency/{police.pk}/change/"
    data = signed_agency_form(police, "test-signed", "typed-secret-9876")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    agency = Agency.objects.get(pk=police.pk)
    assert agency_secrets(agency) == {"signing_secret": "typed-secret-9876"}
    page = admin_client.get(url).content.decode()
    assert "typed-secret-9876" not in page and "https://police.example/hook" in page
    # Saved again without typing the secret: it is kept.
    data["secrets"] = ""
    data["name"] = "Renamed"
    assert admin_client.post(url, data).status_code == 302
    assert agency_secrets(Agency.objects.get(pk=police.pk)) == {"signing_secret": "typed-secret-9876"}


def test_membership_is_set_through_the_service(admin_client, authority, police):
    response = admin_client.post(
        "/admin/referrals/agencymembership/add/", {"user": authority.pk, "agency": police.pk, "reason": "Joined"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert AgencyMembership.objects.get(user=authority).agency == police
    assert AuditEvent.objects.filter(action=actions.AGENCY_MEMBERSHIP_SET, subject_id=authority.pk).exists()


def test_agencies_cannot_be_deleted(admin_client, police):
    response = admin_client.get(f"/admin/referrals/agency/{police.pk}/delete/")
    assert response.status_code == 403


def test_a_webhook_agency_is_saved_again_without_typing_its_signing_secret(admin_client, police):
    url = f"/admin/referrals/agency/{police.pk}/change/"
    data = signed_agency_form(police, "webhook", "a-long-enough-signing-secret")
    assert admin_client.post(url, data).status_code == 302
    data.update(secrets="", name="Renamed")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    agency = Agency.objects.get(pk=police.pk)
    assert agency.name == "Renamed" and agency_secrets(agency) == {"signing_secret": "a-long-enough-signing-secret"}
