"""The CyberTipline report XML built from the canonical referral document, checked against NCMEC's XSD.

Pure functions: no database, no network. ``report_xml(document, config)``
returns the bytes ``/submit`` receives, after validating them against
``schema/cyber_tipline.xsd`` (a copy of NCMEC's published schema, so nothing
outside the project is read at run time). A document that cannot produce a
valid report raises ``DeliveryError(permanent=True)`` naming what is missing
or the element the schema refused, never a value from the document.

What goes where (any key of the document may be missing; what is missing is
left out, never made up):

- ``incidentSummary``: the incident type from the categories (``INCIDENT_TYPES``,
  first match in that order), else the agency's ``default_incident_type``;
  ``platform``; ``escalateToHighPriority`` when the urgency is immediate or the
  child is in immediate danger; annotations (sextortion, minor-to-minor when an
  alleged perpetrator is under 18); the date from ``incident.occurred_on``, else the
  referral's ``created_at`` (said so in ``incidentDateTimeDescription``);
- ``internetDetails``: one ``webPageIncident`` with every reported URL (hosted
  by a third party: the helpline hosts nothing);
- ``reporter``: the helpline (the agency configuration's reporting person, the
  helpline's e-mail, phone and country);
- ``personOrUserReported``: each alleged perpetrator (name, online identifiers,
  relationship and age band in ``additionalInfo``);
- ``victim``: the child (name, phone, age, location, languages);
- ``additionalInfo``: the helpline's references, consent and the summary.

Never a file: the platform holds no imagery.
"""

import functools
import re
import xml.etree.ElementTree as ET  # noqa: S405 - used to build XML, never to parse untrusted input
from datetime import date, datetime
from pathlib import Path

import xmlschema
from django.utils.translation import gettext as _

from helpline.outbox import DeliveryError

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "cyber_tipline.xsd"

# The XSD's eight incident types, and which taxonomy codes mean each; the first that matches wins.
CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
SEX_TRAFFICKING = "Child Sex Trafficking"
SEX_TOURISM = "Child Sex Tourism"
MOLESTATION = "Child Sexual Molestation"
MISLEADING_DOMAIN = "Misleading Domain Name"
MISLEADING_WORDS = "Misleading Words or Digital Images on the Internet"
ENTICEMENT = "Online Enticement of Children for Sexual Acts"
OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"
INCIDENT_TYPE_VALUES = (
    CHILD_PORNOGRAPHY,
    SEX_TRAFFICKING,
    SEX_TOURISM,
    MOLESTATION,
    MISLEADING_DOMAIN,
    MISLEADING_WORDS,
    ENTICEMENT,
    OBSCENE_MATERIAL,
)
# (taxonomy codes, incident type): a category matches a code or any code below it
# (cases/taxonomy/chi-2026.1.yaml); the first incident type with a match wins.
INCIDENT_TYPES = (
    (
        ("violence.trafficking", "violence.ocsea.trafficking", "violence.commercial_sexual_exploitation"),
        SEX_TRAFFICKING,
    ),
    (("violence.ocsea.sextortion", "violence.ocsea.grooming"), ENTICEMENT),
    (
        (
            "violence.ocsea.csam_seen",
            "violence.ocsea.csam_shared",
            "violence.ocsea.self_generated",
            "violence.ocsea.livestreamed",
            "violence.ocsea.deepfake",
        ),
        CHILD_PORNOGRAPHY,
    ),
    (("violence.ocsea.unwanted_images",), OBSCENE_MATERIAL),
    (("violence.ocsea.contact_abuse", "violence.sexual"), MOLESTATION),
)
SEXTORTION = "violence.ocsea.sextortion"
PEER_ABUSE = "violence.ocsea.peer_abuse"
ADULT_BANDS = {"18+", "unknown", ""}
# What XML 1.0 cannot carry (control characters, lone surrogates): dropped from the text, not a reason to refuse.
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@functools.cache
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMA_PATH)


def incident_type_for(document: dict, default: str = "") -> str:
    codes = _codes(document)
    for prefixes, incident_type in INCIDENT_TYPES:
        if any(_under(code, prefix) for code in codes for prefix in prefixes):
            return incident_type
    return default


def _codes(document: dict) -> list[str]:
    return [str((category or {}).get("code", "")) for category in document.get("categories") or []]


def _under(code: str, prefix: str) -> bool:
    return code == prefix or code.startswith(prefix + ".")


def report_xml(document: dict, config: dict) -> bytes:
    """The report NCMEC would receive for this document; raises DeliveryError(permanent=True) if none is valid."""
    root = _report(document, config)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    try:
        problems = [error.path or "/report" for error in schema().iter_errors(body)]
    except xmlschema.XMLSchemaException:
        problems = ["/report"]  # not even well-formed (cannot happen with the text cleaned; never sent if it does)
    if problems:
        raise DeliveryError(
            _("The CyberTipline report does not match NCMEC's schema at %(where)s; nothing was sent.")
            % {"where": ", ".join(dict.fromkeys(problems))},
            permanent=True,
            code="schema",
        )
    return body


def _report(document: dict, config: dict) -> ET.Element:
    root = ET.Element("report")
    root.append(_incident_summary(document, config))
    urls = [url for url in (document.get("incident") or {}).get("urls") or [] if url]
    if urls:
        details = ET.SubElement(root, "internetDetails")
        web = ET.SubElement(details, "webPageIncident", thirdPartyHostedContent="true")
        for url in urls:
            _text(web, "url", url)
    root.append(_reporter(document, config))
    for person in document.get("people") or []:
        if person.get("role") == "alleged_perpetrator":
            root.append(_reported_person(person, document))
    if isinstance(document.get("child"), dict):
        root.append(_victim(document["child"]))
    _text(root, "additionalInfo", _additional_info(document))
    return root


def _incident_summary(document: dict, config: dict) -> ET.Element:
    summary = ET.Element("incidentSummary")
    incident_type = incident_type_for(document, config.get("default_incident_type", ""))
    if not incident_type:
        raise DeliveryError(
            _(
                "None of the referral's categories says which CyberTipline incident type this is, and the "
                "agency has no default incident type; nothing was sent."
            ),
            permanent=True,
            code="incident_type",
        )
    _text(summary, "incidentType", incident_type)
    incident = document.get("incident") or {}
    _text(summary, "platform", incident.get("platform"))
    if document.get("urgency") == "immediate" or incident.get("immediate_danger"):
        _text(summary, "escalateToHighPriority", "The child helpline assessed an immediate risk to the child.")
    annotations = _annotations(document)
    if annotations:
        element = ET.SubElement(summary, "reportAnnotations")
        for name in annotations:
            _text(element, name, "true")
    when, described = _incident_datetime(document)
    _text(summary, "incidentDateTime", when)
    _text(summary, "incidentDateTimeDescription", described)
    return summary


def _annotations(document: dict) -> list[str]:
    codes = _codes(document)
    found = []
    if any(_under(code, SEXTORTION) for code in codes):
        found.append("sextortion")
    perpetrators = [p for p in document.get("people") or [] if p.get("role") == "alleged_perpetrator"]
    if any(_under(code, PEER_ABUSE) for code in codes) or any(
        str(p.get("age_band") or "") not in ADULT_BANDS for p in perpetrators
    ):
        found.append("minorToMinorInteraction")
    return found


def _incident_datetime(document: dict) -> tuple[str, str]:
    occurred = (document.get("incident") or {}).get("occurred_on")
    if occurred:
        try:
            day = date.fromisoformat(str(occurred))
        except ValueError:
            day = None
        if day is not None:
            return f"{day.isoformat()}T00:00:00Z", "The date of the incident as told to the helpline; time unknown."
    created = document.get("created_at")
    if created:
        try:
            moment = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return (
                moment.isoformat().replace("+00:00", "Z"),
                "The time the helpline made this referral; the date of the incident was not shared.",
            )
    raise DeliveryError(
        _("The referral has no incident date and no creation time, which NCMEC requires; nothing was sent."),
        permanent=True,
        code="incident_date",
    )


def _reporter(document: dict, config: dict) -> ET.Element:
    helpline = document.get("helpline") or {}
    reporter = ET.Element("reporter")
    person = ET.SubElement(reporter, "reportingPerson")
    _text(person, "firstName", config.get("reporter_first_name"))
    _text(person, "lastName", config.get("reporter_last_name"))
    _text(person, "phone", helpline.get("phone"), type="Business")
    _text(person, "email", config.get("reporter_email") or helpline.get("email"), type="Business")
    if helpline.get("country"):
        address = ET.SubElement(person, "address", type="Business")
        _text(address, "country", str(helpline["country"]).upper())
    _text(reporter, "companyTemplate", helpline.get("name"))
    return reporter


def _reported_person(person: dict, document: dict) -> ET.Element:
    reported = ET.Element("personOrUserReported")
    first, last = _split_name(person.get("name"))
    if first or last:
        who = ET.SubElement(reported, "personOrUserReportedPerson")
        _text(who, "firstName", first)
        _text(who, "lastName", last)
    _text(reported, "espService", (document.get("incident") or {}).get("platform"))
    identifiers = [str(i) for i in person.get("online_identifiers") or [] if i]
    profiles = [i for i in identifiers if i.lower().startswith(("http://", "https://"))]
    handles = [i for i in identifiers if i not in profiles]
    if handles:
        _text(reported, "screenName", handles[0])
    for handle in handles[1:]:
        _text(reported, "displayName", handle)
    for profile in profiles:
        _text(reported, "profileUrl", profile)
    notes = []
    if person.get("relationship"):
        notes.append(f"Relationship to the child: {person['relationship']}.")
    if person.get("age_band"):
        notes.append(f"Age band: {person['age_band']}.")
    _text(reported, "additionalInfo", " ".join(notes))
    return reported


def _victim(child: dict) -> ET.Element:
    victim = ET.Element("victim")
    person = ET.SubElement(victim, "victimPerson")
    first, last = _split_name(child.get("name"))
    _text(person, "firstName", first)
    _text(person, "lastName", last)
    _text(person, "phone", child.get("phone"), type="Mobile")
    if child.get("location"):
        address = ET.SubElement(person, "address", type="Home")
        _text(address, "address", child["location"])
    if isinstance(child.get("age"), int):
        _text(person, "age", str(child["age"]))
    notes = []
    for key, label in (("age_band", "Age band"), ("gender", "Gender"), ("region", "Region")):
        if child.get(key):
            notes.append(f"{label}: {child[key]}.")
    if child.get("languages"):
        notes.append("Languages: " + ", ".join(str(language) for language in child["languages"]) + ".")
    _text(victim, "additionalInfo", " ".join(notes))
    return victim


def _additional_info(document: dict) -> str:
    lines = []
    helpline = document.get("helpline") or {}
    if helpline.get("name"):
        lines.append(f"Reported by the child helpline {helpline['name']}.")
    if document.get("case_reference"):
        lines.append(f"Helpline case reference: {document['case_reference']}.")
    if document.get("referral_id"):
        lines.append(f"Helpline referral id: {document['referral_id']}.")
    labels = [str(c.get("label") or c.get("code")) for c in document.get("categories") or [] if c]
    if labels:
        lines.append("Categories: " + ", ".join(labels) + ".")
    if document.get("risk_level"):
        lines.append(f"Risk level assessed by the helpline: {document['risk_level']}.")
    consent = document.get("consent") or {}
    if consent.get("status"):
        lines.append(
            f"Consent to share: {consent['status']}" + (f" (by {consent['by']})." if consent.get("by") else ".")
        )
    incident = document.get("incident") or {}
    if incident.get("imagery_exists"):
        lines.append("Imagery exists; the helpline holds none and uploads none.")
    if incident.get("summary"):
        lines.append(f"Summary: {incident['summary']}")
    return "\n".join(lines)


def _split_name(name) -> tuple[str, str]:
    words = str(name or "").split()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    return " ".join(words[:-1]), words[-1]


def _text(parent: ET.Element, tag: str, value, **attributes) -> None:
    """Add ``<tag>value</tag>`` when there is a value: the report leaves out what the referral does not share."""
    if value is None or value == "":
        return
    text = NOT_XML.sub("", str(value))
    if text:
        ET.SubElement(parent, tag, **attributes).text = text
