"""The CPIMS case report JSON built from the canonical referral document: pure functions, no network.

Missing keys stay missing (no made-up values). A document none of whose
categories maps to a CPIMS category cannot make a case report and raises
``DeliveryError(permanent=True)``.
"""

import json

from django.utils.translation import gettext as _

from helpline.outbox import DeliveryError

ONLINE_ABUSE = "CCOA"
# CPIMS's online-abuse sub-categories: livestreaming, grooming, sexting, sextortion, cyberbullying, abuse material.
ONLINE_ABUSE_SUBCATEGORIES = {"OALS", "OAOG", "OASE", "OAST", "OACB", "OASA"}
SEX = {"girl": "SFEM", "boy": "SMAL"}


def case_report_json(document: dict, config: dict) -> bytes:
    """Exactly the bytes CPIMS receives (what the preview shows); a lone surrogate from a broken client becomes "?"."""
    return json.dumps(case_report(document, config), indent=2, ensure_ascii=False).encode("utf-8", "replace")


def national_codes(document: dict) -> list[tuple[str, str]]:
    """(category, sub-category or "") for each category that maps to CPIMS, in the document's order, once each."""
    found = []
    for category in document.get("categories") or []:
        value = str(((category or {}).get("national") or {}).get("cpims") or "").strip().upper()
        if not value:
            continue
        if value in ONLINE_ABUSE_SUBCATEGORIES:
            pair = (ONLINE_ABUSE, value)
        elif "/" in value or "." in value:
            head, _sep, tail = value.replace("/", ".").partition(".")
            pair = (head, tail)
        else:
            pair = (value, "")
        if pair not in found:
            found.append(pair)
    return found


def case_report(document: dict, config: dict) -> dict:
    codes = national_codes(document)
    if not codes:
        raise DeliveryError(
            _(
                "None of the referral's categories has a CPIMS code in the taxonomy's national mapping, so "
                "CPIMS cannot file it; nothing was sent."
            ),
            permanent=True,
            code="no_cpims_category",
        )
    if not document.get("referral_id"):
        raise DeliveryError(
            _("The referral has no id to send as CPIMS's external id; nothing was sent."),
            permanent=True,
            code="no_referral_id",
        )
    incident = document.get("incident") or {}
    child = document.get("child") or {}
    helpline = document.get("helpline") or {}
    report = {
        "external_id": document["referral_id"],
        "case_reference": document.get("case_reference"),
        "case_category": codes[0][0],
        "case_date": str(document.get("created_at") or "")[:10] or None,
        "case_narration": _narration(document),
        "case_landmark": child.get("location"),
        "case_reporter": config.get("reporter_type") or None,
        "org_unit": config.get("org_unit") or None,
        **_area(child.get("region")),
        **_child(child),
        "reporter_first_name": config.get("reporter_first_name") or helpline.get("name"),
        "reporter_surname": config.get("reporter_surname") or None,
        "reporter_tel": helpline.get("phone"),
        "reporter_county": config.get("reporter_county") or None,
        "reporter_sub_county": config.get("reporter_sub_county") or None,
        "risk_level": document.get("risk_level"),
        **_people(document.get("people")),
        "case_details": [
            {
                "category": category,
                "sub_category": sub or None,
                "date_of_event": incident.get("occurred_on"),
                "nature_of_event": "online" if incident.get("platform") or incident.get("urls") else None,
                "place_of_event": incident.get("platform"),
            }
            for category, sub in codes
        ],
    }
    return _without_empty(report)


def _narration(document: dict) -> str | None:
    lines = []
    incident = document.get("incident") or {}
    if incident.get("summary"):
        lines.append(str(incident["summary"]))
    labels = [str(c.get("label") or c.get("code")) for c in document.get("categories") or [] if c]
    if labels:
        lines.append("Categories (helpline): " + ", ".join(labels) + ".")
    child = document.get("child") or {}
    if isinstance(child.get("age"), int):
        lines.append(f"Child's age: {child['age']}.")
    elif child.get("age_band"):
        lines.append(f"Child's age band: {child['age_band']}.")
    if incident.get("urls"):
        lines.append("Reported addresses: " + " ".join(str(url) for url in incident["urls"]))
    consent = document.get("consent") or {}
    if consent.get("status"):
        lines.append(f"Consent: {consent['status']}" + (f" (by {consent['by']})." if consent.get("by") else "."))
    return "\n".join(lines) or None


def _area(region) -> dict:
    """``KE-047`` → county 047; ``KE-047-285`` → county 047, constituency 285. Other regions: nothing."""
    parts = str(region or "").upper().split("-")
    if len(parts) < 2 or parts[0] != "KE" or not parts[1].isdigit():
        return {}
    area = {"county": parts[1]}
    if len(parts) > 2 and parts[2].isdigit():
        area["constituency"] = parts[2]
    return area


def _child(child: dict) -> dict:
    first, others, last = _name_parts(child.get("name"))
    return {
        "child_first_name": first,
        "child_other_names": others,
        "child_surname": last,
        "child_sex": SEX.get(str(child.get("gender") or "")),
        "child_tel": child.get("phone"),
    }


def _people(people) -> dict:
    perpetrators, caregivers = [], []
    for person in people or []:
        first, others, last = _name_parts(person.get("name"))
        entry = _without_empty(
            {
                "first_name": first,
                "other_names": others,
                "surname": last,
                "relationship": person.get("relationship"),
                "age_band": person.get("age_band"),
                "online_identifiers": person.get("online_identifiers") or None,
            }
        )
        if person.get("role") == "alleged_perpetrator":
            perpetrators.append(entry)
        elif person.get("role") == "caregiver":
            caregivers.append(entry)
    known = any(p.get("first_name") or p.get("surname") or p.get("online_identifiers") for p in perpetrators)
    result = {"perpetrator_known": known if perpetrators else None, "perpetrators": perpetrators or None}
    result["caregivers"] = caregivers or None
    return result


def _name_parts(name) -> tuple[str | None, str | None, str | None]:
    words = str(name or "").split()
    if not words:
        return None, None, None
    if len(words) == 1:
        return words[0], None, None
    return words[0], " ".join(words[1:-1]) or None, words[-1]


def _without_empty(values: dict) -> dict:
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}
