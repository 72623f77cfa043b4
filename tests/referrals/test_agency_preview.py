"""The agency configuration page's Preview: the demo case's document as the agency would receive it, in its
transport's own format, cut to the fields the unsaved form selects; a configuration that cannot be used is
a clear message, never a 500; nothing real, no secret; administrators only."""

import json
import xml.etree.ElementTree as ET

import pytest

from referrals.demo import DEMO_DOCUMENT
from referrals.document_fields import field_paths_expand
from tests.conftest import login_verified
from tests.referrals.test_agency_admin import agency_form

pytestmark = pytest.mark.django_db

PREVIEW = "/admin/referrals/agency/preview/"
HTMX = {"HX-Request": "true"}
CONFIGS = {
    "portal": "",
    "webhook": "url = https://police.example/hook",
    "ncmec": "base_url = https://ncmec.example/api\nusername = helpline\nreporter_first_name = Grace\n"
    "reporter_last_name = Achieng\nreporter_email = grace@helpline.example",
    "cpims": "base_url = https://cpims.example\norg_unit = 1234\nreporter_county = 047",
    "email": "recipients = duty@police.example",
    "iwf": "base_url = https://iwf.example/api\nusername = helpline\nmedia_type_id = 1\nreport_channel_id = 51\n"
    "reported_category_id = 2",
}
SECRETS = {
    "portal": "",
    "webhook": "signing_secret = s3cret-signing-key-123",
    "ncmec": "password = s3cret-ncmec-pass",
    "cpims": "token = s3cret-cpims-token",
    "email": "",
    "iwf": "password = s3cret-iwf-pass",
}
FIELDS = ["categories", "risk_level", "child.age_band", "child.gender", "incident", "report_remove", "people.role"]


def preview(client, transport, **changes):
    data = agency_form(
        transport=transport, transport_config=CONFIGS[transport], secrets=SECRETS[transport], fields=FIELDS
    )
    data.update(changes)
    response = client.post(PREVIEW, data, headers=HTMX)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def body_of(page: str) -> str:
    import html

    start = page.index('aria-label="Sample">') + len('aria-label="Sample">')
    return html.unescape(page[start : page.index("</pre>", start)])


@pytest.mark.parametrize("transport", ["portal", "webhook", "cpims", "iwf"])
def test_json_transports_show_the_demo_case_in_their_own_json(admin_client, transport):
    page = preview(admin_client, transport)
    sample = json.loads(body_of(page))
    assert "application/json" in page and "made-up demo case" in page
    assert not any(secret.split(" = ")[-1] in page for secret in SECRETS.values() if secret)
    if transport in ("portal", "webhook"):
        # The canonical document cut to the fields chosen: nothing the form does not select.
        assert sample["agency"] == {"code": "ke-ngo", "name": "Child rights NGO"}
        assert set(sample["child"]) == {"age_band", "gender"} and "name" not in sample["child"]
        assert sample["people"] == [{"role": "alleged_perpetrator"}]
        assert sample["incident"]["urls"] == DEMO_DOCUMENT["incident"]["urls"]
    elif transport == "cpims":
        assert "OAST" in json.dumps(sample)  # the national category mapping
    else:
        assert [request["path"] for request in sample] == ["/report", "/report-remove"]
        assert sample[1]["body"] == {"age_range": "13-15", "reference": "RR-DEMO00000000"}


def test_ncmec_shows_xml_and_email_the_message(admin_client):
    page = preview(admin_client, "ncmec")
    assert "application/xml" in page
    root = ET.fromstring(body_of(page).encode())
    assert root.tag == "report"
    page = preview(admin_client, "email")
    assert "message/rfc822" in page and "duty@police.example" in body_of(page)
    assert "Demo Child" not in page  # a notice carries a link, never content


def test_the_sample_follows_the_fields_the_unsaved_form_selects(admin_client):
    narrow = json.loads(body_of(preview(admin_client, "webhook", fields=["child.age_band"])))
    assert narrow["child"] == {"age_band": "13-15"} and "incident" not in narrow and "categories" not in narrow
    envelope = json.loads(body_of(preview(admin_client, "webhook", fields=[])))
    assert "child" not in envelope and envelope["case_reference"] == "DEMO-0000-X"
    whole = json.loads(body_of(preview(admin_client, "webhook", fields=["child"])))
    assert set(whole["child"]) == {path.split(".")[1] for path in field_paths_expand(["child"])}


def test_nothing_real_is_in_the_sample(admin_client, counsellor, demo_line, taxonomy, regions, agencies, active_sop):
    from tests.referrals.conftest import PROTECTED, sextortion_case

    case = sextortion_case(counsellor, demo_line)
    page = preview(admin_client, "webhook", fields=["child", "people", "incident", "categories"])
    assert not any(text in page for text in [*PROTECTED, case.reference])


def test_a_configuration_that_cannot_be_used_is_a_clear_message(admin_client):
    page = preview(admin_client, "webhook", transport_config="url = http://police.example/hook")
    assert "cannot be used" in page and "https://" in page and 'role="alert"' in page
    page = preview(admin_client, "webhook", transport_config="not a pair")
    assert "Line 1: write name = value." in page
    page = preview(admin_client, "ncmec", secrets="")
    assert "cannot be used" in page
    page = admin_client.post(PREVIEW, agency_form(transport="nosuch"), headers=HTMX).content.decode()
    assert "Choose a delivery method." in page


def test_a_document_the_receiver_cannot_take_is_its_reason_not_a_500(admin_client):
    # The IWF needs reported addresses or the Report Remove hand-off: without them there is nothing to act on.
    page = preview(admin_client, "iwf", fields=["categories"])
    assert "nothing to act on" in page and 'aria-label="Sample"' not in page
    page = preview(admin_client, "cpims", fields=["child.age_band"])  # no category, no CPIMS case report
    assert "cannot be used" in page


def test_a_kept_secret_counts_as_present_on_a_saved_agency(admin_client, police):
    from referrals.services.agencies import agency_update

    agency_update(
        actor=None,
        agency=police,
        transport="webhook",
        transport_config={"url": "https://police.example/hook"},
        secrets={"signing_secret": "kept-secret-value-42"},
    )
    page = preview(admin_client, "webhook", secrets="", agency=str(police.pk))
    assert "cannot be used" not in page and "kept-secret-value-42" not in page
    assert "cannot be used" in preview(admin_client, "webhook", secrets="")  # a new agency has no secret yet


def test_only_administrators_reach_the_preview(client, counsellor, supervisor, authority):
    for user in (counsellor, supervisor, authority):
        response = login_verified(client, user).post(PREVIEW, agency_form(transport="portal"), headers=HTMX)
        assert response.status_code in (302, 403) and "Sample" not in response.content.decode()
        client.logout()
    assert client.post(PREVIEW, agency_form(transport="portal")).status_code == 302  # to the login


def test_the_preview_is_post_only_and_the_change_page_has_the_button(admin_client, police):
    assert admin_client.get(PREVIEW).status_code == 405
    page = admin_client.get(f"/admin/referrals/agency/{police.pk}/change/").content.decode()
    assert 'hx-post="/admin/referrals/agency/preview/"' in page and f'name="agency" value="{police.pk}"' in page
    assert "htmx" in page


def test_the_demo_document_is_a_canonical_document_cut_like_a_real_one():
    from jsonschema import Draft202012Validator

    from referrals.demo import demo_document
    from referrals.document import SCHEMA_PATH, document_fields_outside
    from referrals.document_fields import SHAREABLE_FIELDS

    validator = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    whole = demo_document(agency_code="ke-ngo", agency_name="NGO", fields=list(SHAREABLE_FIELDS))
    assert not list(validator.iter_errors(whole))
    for fields in (["child.age_band"], ["people.role", "incident.urls"], ["report_remove"], []):
        cut = demo_document(agency_code="ke-ngo", agency_name="NGO", fields=fields)
        assert not list(validator.iter_errors(cut))
        assert document_fields_outside(cut, field_paths_expand(fields)) == []
