"""Demo agencies (the codes the demo SOP refers to) and the demo authority user's agency."""

from django.contrib.auth import get_user_model

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
