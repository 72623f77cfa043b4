"""Demo agencies (the codes the demo SOP refers to), the demo authority user's agency, and the demo
case's referral document the agency configuration page shows a sample from (nothing real in it)."""

import copy

from django.conf import settings
from django.contrib.auth import get_user_model

from referrals.document import SCHEMA_ID, document_cut
from referrals.models import Agency, AgencyMembership
from referrals.services.agencies import agency_create, agency_membership_set

POLICE_FIELDS = [
    "categories",
    "risk_level",
    "child",
    "people",
    "incident",
]
SOCIAL_FIELDS = ["categories", "risk_level", "child", "people.role", "people.relationship", "incident.summary"]

DEMO_AGENCIES = [
    {
        "code": "ke-police-dcs",
        "name": "DCI Anti-Human Trafficking and Child Protection Unit",
        "kind": "police",
        "national": True,
        "languages": ["en", "sw"],
        "needs": ["violence"],
        "phone": "+254 20 000 0001",
        "hours": "24/7",
        "fields": POLICE_FIELDS,
    },
    {
        "code": "ke-police-nairobi",
        "name": "Nairobi County Police, Gender and Children Desk",
        "kind": "police",
        "regions": ["KE-047"],
        "languages": ["en", "sw"],
        "needs": ["violence"],
        "phone": "+254 20 000 0002",
        "hours": "24/7",
        "fields": POLICE_FIELDS,
    },
    {
        "code": "ke-childrens-services-nairobi",
        "name": "Children's Services, Nairobi County",
        "kind": "social_services",
        "regions": ["KE-047"],
        "languages": ["en", "sw"],
        "needs": [],
        "phone": "+254 20 000 0003",
        "hours": "Mon-Fri 08:00-17:00",
        "fields": SOCIAL_FIELDS,
    },
    {
        "code": "ke-dcs-national",
        "name": "Directorate of Children's Services (national)",
        "kind": "social_services",
        "national": True,
        "languages": ["en", "sw"],
        "needs": [],
        "phone": "+254 20 000 0004",
        "hours": "Mon-Fri 08:00-17:00",
        "fields": SOCIAL_FIELDS,
    },
    {
        "code": "iwf",
        "name": "Internet Watch Foundation reporting portal",
        "kind": "reporting_portal",
        "national": True,
        "languages": ["en"],
        "needs": ["violence.ocsea"],
        "website": "https://report.iwf.org.uk/",
        "fields": ["categories", "child.age_band", "incident.urls", "incident.summary", "report_remove"],
    },
    {
        "code": "ncmec",
        "name": "NCMEC CyberTipline",
        "kind": "reporting_portal",
        "national": True,
        "languages": ["en"],
        "needs": ["violence.ocsea"],
        "website": "https://report.cybertip.org/",
        "fields": [
            "categories",
            "child.age_band",
            "child.gender",
            "people.role",
            "people.online_identifiers",
            "incident",
        ],
    },
]


def demo_agencies(line) -> None:
    """Idempotent: agencies that exist are left as they are (an administrator may have changed them)."""
    existing = set(
        Agency.objects.filter(code__in=[entry["code"] for entry in DEMO_AGENCIES]).values_list("code", flat=True)
    )
    for entry in DEMO_AGENCIES:
        if entry["code"] not in existing:
            agency_create(actor=None, reason="Demo data", **entry)
    authority = get_user_model().objects.filter(username="authority").first()
    if authority is not None and not AgencyMembership.objects.filter(user=authority).exists():
        agency_membership_set(
            actor=None, user=authority, agency=Agency.objects.get(code="ke-police-nairobi"), reason="Demo data"
        )


# A made-up case (no real child, no real case): every field of the canonical document filled, so the
# sample shows each field an agency may receive. Cut to the agency's fields by ``demo_document``.
DEMO_DOCUMENT = {
    "schema": SCHEMA_ID,
    "referral_id": "00000000-0000-4000-8000-000000000000",
    "case_reference": "DEMO-0000-X",
    "created_at": "2026-01-05T09:00:00Z",
    "acknowledge_by": "2026-01-06T09:00:00Z",
    "complete_by": "2026-01-12T09:00:00Z",
    "urgency": "urgent",
    "categories": [
        {"code": "violence.ocsea.sextortion", "label": "Sextortion", "national": {"cpims": "OAST"}},
    ],
    "risk_level": "high",
    "child": {
        "age_band": "13-15",
        "age": 14,
        "gender": "girl",
        "region": "KE-047",
        "languages": ["sw", "en"],
        "name": "Demo Child",
        "phone": "+254700000000",
        "location": "Demo estate, Nairobi",
    },
    "people": [
        {
            "role": "alleged_perpetrator",
            "relationship": "stranger_online",
            "age_band": "18+",
            "name": "Demo Adult",
            "online_identifiers": ["@demo_account"],
        }
    ],
    "incident": {
        "platform": "instagram",
        "imagery_exists": True,
        "immediate_danger": False,
        "occurred_on": "2026-01-04",
        "urls": ["https://example.invalid/demo-album"],
        "summary": "Demo summary: someone she met online threatens to share her pictures unless she pays.",
    },
    "report_remove": {"age_range": "13-15", "reference": "RR-DEMO00000000"},
    "consent": {"status": "given", "by": "child", "method": "verbal", "recorded_at": "2026-01-05T08:55:00Z"},
}


def demo_document(*, agency_code: str, agency_name: str, fields) -> dict:
    """The demo case's referral document as an agency with these ``fields`` would receive it."""
    document = copy.deepcopy(DEMO_DOCUMENT)
    document["agency"] = {"code": agency_code or "agency", "name": agency_name or "Agency"}
    helpline = {"name": "Demo helpline", "line": "demo"}
    for key, setting in (("country", "HELPLINE_COUNTRY"), ("phone", "HELPLINE_PHONE"), ("email", "HELPLINE_EMAIL")):
        if getattr(settings, setting, ""):
            helpline[key] = getattr(settings, setting)
    document["helpline"] = helpline
    return document_cut(document, fields)
