"""The JSON Schema of SOP documents, built from the vocabulary.

Published as docs/sop.schema.json (``python manage.py sop_schema > docs/sop.schema.json``;
a test fails when the published copy is stale), so editors can complete and check a
document before it is imported. What a schema cannot say well (exactly one of refer,
notify or offer per action, duplicate rule ids, share fields, category codes of the
active taxonomy) is checked by ``referrals.sop.document`` with plainer messages.
"""

import json

from referrals.sop import vocabulary as v

SCHEMA_ID = "https://helpline.example/schemas/sop.schema.json"


def _one_or_many(item: dict) -> dict:
    return {"anyOf": [item, {"type": "array", "items": item, "minItems": 1, "uniqueItems": True}]}


def sop_schema() -> dict:
    string = {"type": "string"}
    code = {"type": "string", "pattern": v.CODE_PATTERN, "maxLength": 80}
    category = {"type": "string", "pattern": v.CATEGORY_PATTERN, "maxLength": 120}
    duration = {"type": "string", "pattern": v.DURATION_PATTERN}
    condition_ref = {"$ref": "#/$defs/condition"}
    condition = {
        "type": "object",
        "description": "Every key must hold (all of them); use any/not for alternatives and exceptions.",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "categories_any": _one_or_many(category),
            "categories_all": _one_or_many(category),
            "risk_level": _one_or_many({"enum": list(v.RISK_LEVELS)}),
            "risk_at_least": {"enum": list(v.RISK_LEVELS)},
            "age_band": _one_or_many({"enum": list(v.AGE_BANDS)}),
            "child_age_under": {"type": "integer", "minimum": 1, "maximum": 30},
            "caller_type": _one_or_many({"enum": list(v.CALLER_TYPES)}),
            "channel": _one_or_many({"enum": list(v.CHANNELS)}),
            "channels_any": _one_or_many({"enum": list(v.CHANNELS)}),
            "region": _one_or_many({"type": "string", "pattern": v.REGION_PATTERN}),
            "has": _one_or_many({"enum": list(v.HAS_FACTS)}),
            "perpetrator_is_caregiver": {"type": "boolean"},
            "all": {"type": "array", "items": condition_ref, "minItems": 1},
            "any": {"type": "array", "items": condition_ref, "minItems": 1},
            "not": condition_ref,
        },
    }
    refer_target = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "agency": code,
            "agency_kind": code,
            "jurisdiction": {
                "anyOf": [
                    {"enum": [v.JURISDICTION_CASE, v.JURISDICTION_NATIONAL]},
                    {"type": "string", "pattern": v.REGION_PATTERN},
                ]
            },
        },
    }
    action = {
        "type": "object",
        "description": "One of refer, notify or offer; the other keys qualify a referral.",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "refer": refer_target,
            "due_within": duration,
            "complete_within": duration,
            "urgency": {"enum": list(v.URGENCIES)},
            "consent": {"enum": list(v.CONSENT_RULES)},
            "consent_by": _one_or_many({"enum": list(v.CONSENT_BY)}),
            "needs_approval": {"type": "boolean"},
            "share": {"type": "array", "items": string, "uniqueItems": True},
            "notify": _one_or_many({"enum": list(v.NOTIFY_TARGETS)}),
            "offer": {"enum": list(v.OFFERS)},
        },
    }
    rule = {
        "type": "object",
        "required": ["id", "when", "then"],
        "additionalProperties": False,
        "properties": {
            "id": code,
            "description": string,
            "when": condition_ref,
            "then": {"type": "array", "items": {"$ref": "#/$defs/action"}, "minItems": 1},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Helpline standard operating procedure (SOP)",
        "description": "Rules that propose referrals, notices and offers for a case. See docs/SOP.md.",
        "type": "object",
        "required": ["sop", "rules"],
        "additionalProperties": False,
        "properties": {
            "sop": code,
            "version": {"type": "integer", "minimum": 1},
            "description": string,
            "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
        },
        "$defs": {"condition": condition, "action": action, "rule": rule},
    }


def sop_schema_json() -> str:
    """The published text of the schema (docs/sop.schema.json)."""
    return json.dumps(sop_schema(), indent=2, ensure_ascii=False) + "\n"
