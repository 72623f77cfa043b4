"""The canonical referral document (``helpline.referral/1``), built from a case for one referral.

Published as ``docs/referral-document.schema.json``; transports receive it (docs/TRANSPORTS.md,
docs/WEBHOOK.md). It is cut twice: to the fields the referral asks for (the SOP rule's
``share``, or the agency's whole list when the rule names none) and to the fields the agency
may receive (``Agency.fields``); a field outside either never leaves. Plain facts come from
``cases.selectors.case_facts``; protected ones (names, numbers, places, URLs, the summary)
from ``cases.selectors.case_shareable_content``, which audits the read. Keys with nothing
to say are left out, never filled with made-up values.
"""

import json
from datetime import UTC
from pathlib import Path

from django.conf import settings

from cases.models import Category
from cases.selectors import case_facts, case_shareable_content
from referrals.document_fields import ENVELOPE_KEYS, field_paths_expand
from referrals.models import ConsentStatus, Referral

SCHEMA_ID = "helpline.referral/1"
SCHEMA_PATH = Path(settings.BASE_DIR) / "docs" / "referral-document.schema.json"

# Of each part, what case_shareable_content unseals (the rest is plain and comes from the facts).
CONTENT_CHILD = ("name", "phone", "location", "languages")
CONTENT_PEOPLE = ("name", "online_identifiers")
PLAIN_CHILD = ("age_band", "age", "gender", "region")
PLAIN_PEOPLE = ("role", "relationship", "age_band")


def document_fields(referral: Referral) -> set[str]:
    """The leaf paths this referral's document carries: asked for, and allowed for the agency."""
    allowed = field_paths_expand(referral.agency.fields)
    asked = field_paths_expand(referral.share) if referral.share else allowed
    return asked & allowed


def _timestamp(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _present(value) -> bool:
    return value not in (None, "", [], {})


def document_build(*, referral: Referral, actor, purpose: str) -> dict:
    """The document for ``referral`` as of now. ``actor`` (a user, or None for the system) is who reads the case."""
    case = referral.case
    agency = referral.agency
    fields = document_fields(referral)
    facts = case_facts(case)
    document: dict = {
        "schema": SCHEMA_ID,
        "referral_id": str(referral.pk),
        "case_reference": case.reference,
        "created_at": _timestamp(referral.created_at),
        "urgency": referral.urgency,
        "helpline": _helpline(case.line),
        "agency": {"code": agency.code, "name": agency.name},
    }
    if referral.acknowledge_by:
        document["acknowledge_by"] = _timestamp(referral.acknowledge_by)
    if referral.complete_by:
        document["complete_by"] = _timestamp(referral.complete_by)
    consent = _consent(referral)
    if consent:
        document["consent"] = consent
    if "categories" in fields and facts.get("categories"):
        document["categories"] = _categories(facts["categories"], case)
    if "risk_level" in fields and facts.get("risk_level"):
        document["risk_level"] = facts["risk_level"]

    wanted_content = sorted(
        path
        for path in fields
        if path.startswith("incident.")
        or (path.startswith("child.") and path.split(".")[1] in CONTENT_CHILD)
        or (path.startswith("people.") and path.split(".")[1] in CONTENT_PEOPLE)
    )
    content = case_shareable_content(case, wanted_content, actor=actor, purpose=purpose) if wanted_content else {}

    child = {name: facts.get(name) for name in PLAIN_CHILD if f"child.{name}" in fields}
    child.update({key: value for key, value in (content.get("child") or {}).items() if f"child.{key}" in fields})
    child = {key: value for key, value in child.items() if _present(value)}
    if child:
        document["child"] = child

    people = _people(facts, content, fields)
    if people:
        document["people"] = people

    incident = {key: value for key, value in (content.get("incident") or {}).items() if f"incident.{key}" in fields}
    if incident:
        document["incident"] = incident

    report_remove = _report_remove(facts, case, fields)
    if report_remove:
        document["report_remove"] = report_remove
    return document


def _helpline(line) -> dict:
    block = {"name": line.name, "line": line.slug}
    for key, setting in (("country", "HELPLINE_COUNTRY"), ("phone", "HELPLINE_PHONE"), ("email", "HELPLINE_EMAIL")):
        value = getattr(settings, setting, "")
        if value:
            block[key] = value
    return block


def _consent(referral: Referral) -> dict:
    status = referral.consent_status
    if status not in (ConsentStatus.GIVEN, ConsentStatus.NOT_REQUIRED, ConsentStatus.OVERRIDDEN):
        return {}
    block = {"status": status}
    if status == ConsentStatus.GIVEN:
        block.update({"by": referral.consent_by, "method": referral.consent_method})
    if referral.consent_recorded_at:
        block["recorded_at"] = _timestamp(referral.consent_recorded_at)
    return {key: value for key, value in block.items() if value}


def _categories(codes, case) -> list[dict]:
    rows = {
        category.code: category
        for category in Category.objects.filter(code__in=codes, version_id=case.taxonomy_version_id)
    }
    items = []
    for code in codes:
        item = {"code": code}
        category = rows.get(code)
        if category is not None:
            item["label"] = category.label("en")
            if category.national:
                item["national"] = {key: str(value) for key, value in category.national.items()}
        items.append(item)
    return items


def _people(facts: dict, content: dict, fields: set[str]) -> list[dict]:
    """Everyone but the child: plain facts from the case facts, protected ones from the content, in the same order."""
    plain = [person for person in facts.get("people") or () if person.get("role") != "child"]
    sealed = content.get("people") or []
    people = []
    for index, person in enumerate(plain):
        entry = {name: person.get(name) for name in PLAIN_PEOPLE if f"people.{name}" in fields}
        if index < len(sealed):
            entry.update({key: sealed[index].get(key) for key in CONTENT_PEOPLE if f"people.{key}" in fields})
        entry = {key: value for key, value in entry.items() if _present(value)}
        if entry:
            people.append(entry)
    return people


def _report_remove(facts: dict, case, fields: set[str]) -> dict:
    band = facts.get("age_band")
    ranges = {"13-15": "13-15", "16-17": "16-17", "0-5": "under-13", "6-9": "under-13", "10-12": "under-13"}
    block = {}
    if "report_remove.age_range" in fields and band in ranges:
        block["age_range"] = ranges[band]
    if "report_remove.reference" in fields:
        block["reference"] = case.reference
    return block


def document_cut(document: dict, fields) -> dict:
    """A full document cut to the fields an agency may receive (the envelope always stays), as building one
    for that agency cuts it: for the sample the agency configuration page shows (referrals.demo)."""
    allowed = field_paths_expand(fields)
    cut: dict = {}
    for key, value in document.items():
        if key in ENVELOPE_KEYS:
            cut[key] = value
        elif key == "people":
            people = [{name: item for name, item in person.items() if f"people.{name}" in allowed} for person in value]
            if any(people):
                cut[key] = [person for person in people if person]
        elif isinstance(value, dict):
            part = {name: item for name, item in value.items() if f"{key}.{name}" in allowed}
            if part:
                cut[key] = part
        elif key in allowed:
            cut[key] = value
    return cut


def document_encode(document: dict) -> str:
    """The JSON text sealed as sent (stable key order, so the same document encodes the same)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def document_fields_outside(document: dict, allowed: set[str]) -> list[str]:
    """Leaf paths present in ``document`` beyond the envelope and not in ``allowed`` (for tests and checks)."""
    found = []
    for key, value in document.items():
        if key in ENVELOPE_KEYS:
            continue
        if isinstance(value, dict):
            found += [f"{key}.{sub}" for sub in value if f"{key}.{sub}" not in allowed]
        elif isinstance(value, list) and value and isinstance(value[0], dict) and key == "people":
            found += sorted({f"{key}.{sub}" for item in value for sub in item if f"{key}.{sub}" not in allowed})
        elif key not in allowed:
            found.append(key)
    return found


def document_keys(document: dict) -> set[str]:
    """The dotted keys a document carries (``child.age_band``, ``people.role``): what was shared, for audits."""
    keys = set()
    for key, value in document.items():
        if isinstance(value, dict):
            keys.update(f"{key}.{sub}" for sub in value)
        elif isinstance(value, list) and value and isinstance(value[0], dict) and key == "people":
            keys.update(f"people.{sub}" for item in value for sub in item)
        else:
            keys.add(key)
    return keys
