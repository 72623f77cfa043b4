"""The words an SOP document may use, in one place: the JSON Schema, the engine, the
checks and docs/SOP.md are built from these lists, so they cannot drift apart.

The values follow the case-facts contract (``cases.selectors.case_facts``) and the
canonical referral document (docs/referral-document.schema.json).
"""

from referrals.document_fields import PARENTS, SHAREABLE_FIELDS

RISK_LEVELS = ("none", "low", "medium", "high", "imminent")

# Age bands of the case facts, with the youngest and oldest age each one covers (None: open or unknown).
AGE_BANDS = {
    "0-5": (0, 5),
    "6-9": (6, 9),
    "10-12": (10, 12),
    "13-15": (13, 15),
    "16-17": (16, 17),
    "18+": (18, None),
    "unknown": (None, None),
}

CALLER_TYPES = ("child", "adult_about_child", "professional", "self_concern")

CHANNELS = ("sms", "whatsapp", "webchat", "phone", "walk_in", "letter", "email")

# ``has: [...]``: a fact that is present (true, or not empty) in the case facts, and where it is.
HAS_FACTS = {
    "incident.urls": ("incident", "urls_reported"),
    "incident.imagery": ("incident", "imagery_exists"),
    "incident.immediate_danger": ("incident", "immediate_danger"),
    "incident.platform": ("incident", "platform"),
    "region": (None, "region"),
    "age": (None, "age"),
    "people.alleged_perpetrator": (None, "people.alleged_perpetrator"),
}

CONSENT_RULES = ("required", "not_required", "override_allowed")
# Whose consent a referral asks for; the caregiver is never asked when recorded as the alleged perpetrator.
CONSENT_BY = ("child", "caregiver")

# Who is told: staff roles, or the child's caregiver (never when the caregiver is the alleged perpetrator).
NOTIFY_TARGETS = ("supervisors", "on_call", "caregiver")

OFFERS = ("report_remove",)

URGENCIES = ("routine", "urgent", "immediate")

# The dotted fields of the canonical referral document an agency may receive (``share: [...]``), as
# ``referrals.document_fields`` publishes them: single fields, and parents (``child``) for all below them.
SHARE_FIELDS = (*SHAREABLE_FIELDS, *PARENTS)

# ``jurisdiction:`` of a referral by kind: the case's region (falling back to the national agency), or national.
JURISDICTION_CASE = "case"
JURISDICTION_NATIONAL = "national"

# Durations: a whole number and a unit (minutes, hours, days, weeks): 30m, 1h, 24h, 3d, 2w.
DURATION_PATTERN = r"^[1-9][0-9]{0,4}[mhdw]$"
DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
CATEGORY_PATTERN = r"^[a-z0-9_]+(\.[a-z0-9_]+)*$"
REGION_PATTERN = r"^[A-Z]{2}(-[A-Z0-9]{1,6})*$"
