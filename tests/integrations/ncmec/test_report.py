"""The CyberTipline report: built from the referral document, valid against NCMEC's XSD, or refused with a reason."""

import xml.etree.ElementTree as ET

import pytest

from helpline.outbox import DeliveryError
from integrations.ncmec.report import (
    CHILD_PORNOGRAPHY,
    ENTICEMENT,
    MOLESTATION,
    OBSCENE_MATERIAL,
    SEX_TRAFFICKING,
    report_xml,
)
from referrals.transports import transport_get
from tests.integrations.referral_documents import (
    CHILD_NAME,
    CHILD_PHONE,
    PERPETRATOR_HANDLE,
    URL,
    document_without,
    full_document,
    minimal_document,
)


def _find(xml: bytes, path: str) -> list[str]:
    return [element.text for element in ET.fromstring(xml).findall(path)]


def test_the_full_document_makes_a_report_that_validates_against_the_xsd(ncmec_schema):
    xml = report_xml(full_document(), {"reporter_first_name": "Grace"})

    ncmec_schema.validate(xml)
    assert _find(xml, "incidentSummary/incidentType") == [ENTICEMENT]
    assert _find(xml, "incidentSummary/platform") == ["instagram"]
    assert _find(xml, "incidentSummary/reportAnnotations/sextortion") == ["true"]
    assert _find(xml, "incidentSummary/incidentDateTime") == ["2026-11-30T00:00:00Z"]
    assert _find(xml, "internetDetails/webPageIncident/url")[0] == URL
    assert _find(xml, "reporter/reportingPerson/firstName") == ["Grace"]
    assert _find(xml, "reporter/reportingPerson/address/country") == ["KE"]
    assert _find(xml, "victim/victimPerson/firstName") == ["Amina Wanjiru"]
    assert _find(xml, "victim/victimPerson/phone") == [CHILD_PHONE]
    assert _find(xml, "victim/victimPerson/age") == ["14"]
    assert _find(xml, "personOrUserReported/screenName") == [PERPETRATOR_HANDLE]
    assert "HK7-3PQ9-X" in _find(xml, "additionalInfo")[0]


def test_a_document_cut_to_almost_nothing_still_makes_a_valid_report(ncmec_schema):
    xml = report_xml(minimal_document(), {})

    ncmec_schema.validate(xml)
    assert _find(xml, "incidentSummary/incidentDateTime") == ["2026-12-02T02:00:00Z"]
    assert not ET.fromstring(xml).findall("victim") and not ET.fromstring(xml).findall("internetDetails")
    assert CHILD_NAME not in xml.decode()


def test_what_is_not_shared_is_left_out_never_made_up(ncmec_schema):
    xml = report_xml(document_without("child.name", "child.phone", "child.age", "people"), {})

    ncmec_schema.validate(xml)
    assert _find(xml, "victim/victimPerson/firstName") == []
    assert _find(xml, "victim/victimPerson/phone") == []
    assert _find(xml, "victim/victimPerson/age") == []
    assert ET.fromstring(xml).findall("personOrUserReported") == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("violence.ocsea.csam_shared", CHILD_PORNOGRAPHY),
        ("violence.ocsea.livestreamed", CHILD_PORNOGRAPHY),
        ("violence.ocsea.self_generated.coerced", CHILD_PORNOGRAPHY),
        ("violence.ocsea.unwanted_images", OBSCENE_MATERIAL),
        ("violence.ocsea.grooming", ENTICEMENT),
        ("violence.trafficking", SEX_TRAFFICKING),
        ("violence.sexual", MOLESTATION),
    ],
)
def test_the_incident_type_follows_the_taxonomy_code(code, expected):
    document = full_document()
    document["categories"] = [{"code": code, "label": "x"}]

    assert _find(report_xml(document, {}), "incidentSummary/incidentType") == [expected]


@pytest.mark.parametrize(
    "code", ["violence.ocsea.sexual_harassment", "violence.sexual_harassment", "physical_health.sexual_reproductive"]
)
def test_a_code_is_matched_as_a_whole_never_by_a_word_inside_it(code):
    document = full_document()
    document["categories"] = [{"code": code, "label": "x"}]

    with pytest.raises(DeliveryError):
        report_xml(document, {})


def test_peer_abuse_marks_the_report_minor_to_minor():
    document = full_document()
    document["categories"].append({"code": "violence.ocsea.peer_abuse", "label": "Peer abuse"})
    document["people"] = []

    assert _find(report_xml(document, {}), "incidentSummary/reportAnnotations/minorToMinorInteraction") == ["true"]


def test_a_perpetrator_under_18_marks_the_report_minor_to_minor():
    document = full_document()
    document["people"][0]["age_band"] = "16-17"

    assert _find(report_xml(document, {}), "incidentSummary/reportAnnotations/minorToMinorInteraction") == ["true"]


def test_immediate_danger_escalates_the_report():
    document = full_document()
    document["incident"]["immediate_danger"] = True

    assert _find(report_xml(document, {}), "incidentSummary/escalateToHighPriority")


def test_no_incident_type_is_a_permanent_failure_with_a_clear_reason():
    document = full_document()
    document["categories"] = [{"code": "violence.ocsea.cyberbullying", "label": "Cyberbullying"}]

    with pytest.raises(DeliveryError) as refused:
        report_xml(document, {})

    assert refused.value.permanent and refused.value.code == "incident_type"
    assert "incident type" in refused.value.reason


def test_the_agency_default_incident_type_fills_the_gap(ncmec_schema):
    document = document_without("categories")

    xml = report_xml(document, {"default_incident_type": ENTICEMENT})

    ncmec_schema.validate(xml)


def test_no_date_at_all_is_a_permanent_failure():
    with pytest.raises(DeliveryError) as refused:
        report_xml(document_without("incident.occurred_on", "created_at"), {})

    assert refused.value.permanent and refused.value.code == "incident_date"


def test_a_value_the_schema_refuses_names_the_element_never_the_value():
    document = full_document()
    document["helpline"]["country"] = "QQ"

    with pytest.raises(DeliveryError) as refused:
        report_xml(document, {})

    assert refused.value.permanent and refused.value.code == "schema"
    assert "/report/reporter/reportingPerson/address/country" in refused.value.reason
    assert "QQ" not in refused.value.reason


def test_render_is_the_preview_of_exactly_the_report(ncmec_request):
    rendered = transport_get("ncmec").render(ncmec_request())

    assert rendered.content_type == "application/xml"
    assert rendered.body == report_xml(full_document(), ncmec_request().config)


def test_characters_xml_cannot_carry_are_dropped_not_a_reason_to_refuse(ncmec_schema):
    document = full_document()
    document["incident"]["summary"] = "he wrote\x0b\x00 then\x1b left \ud800 "
    document["child"]["name"] = "Amina\x08 Otieno"

    xml = report_xml(document, {})

    ncmec_schema.validate(xml)
    assert "he wrote then left" in _find(xml, "additionalInfo")[0].replace("  ", " ")
