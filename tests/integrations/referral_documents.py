"""Canonical referral documents (helpline.referral/1, see the brief's contract) for the transports' tests.

``full_document()`` shares every field; ``document_without(*paths)`` removes dotted
paths, as cutting a document to an agency's fields does. The protected values are
named so tests can check that they never reach a log line, an error or an e-mail.
"""

import copy

CHILD_NAME = "Amina Wanjiru Otieno"
CHILD_PHONE = "+254712345678"
CHILD_LOCATION = "Kibera, near the water point"
PERPETRATOR_NAME = "John Kamau"
PERPETRATOR_HANDLE = "@pics_for_cash_99"
URL = "https://files.example.net/album/8f3a2c"
SECOND_URL = "https://chat.example.org/room/5521"
SUMMARY = "He says he will post my pictures tonight unless I pay him"
PROTECTED = [
    CHILD_NAME,
    "Amina",
    "Otieno",
    CHILD_PHONE,
    "712345678",
    CHILD_LOCATION,
    PERPETRATOR_NAME,
    "Kamau",
    PERPETRATOR_HANDLE,
    URL,
    SECOND_URL,
    SUMMARY,
    "post my pictures",
]

REFERRAL_ID = "9b1c6f2e-4d6a-4b8e-9a51-2f0c3d7e8a10"


def full_document() -> dict:
    return copy.deepcopy(
        {
            "schema": "helpline.referral/1",
            "referral_id": REFERRAL_ID,
            "case_reference": "HK7-3PQ9-X",
            "created_at": "2026-12-02T02:00:00Z",
            "acknowledge_by": "2026-12-02T06:00:00Z",
            "complete_by": "2026-12-09T02:00:00Z",
            "urgency": "urgent",
            "helpline": {
                "name": "Childline Kenya",
                "line": "demo",
                "country": "KE",
                "phone": "116",
                "email": "referrals@childline.example",
            },
            "agency": {"code": "ke-police-nairobi", "name": "Nairobi Cybercrime Unit"},
            "categories": [
                {"code": "violence.ocsea.sextortion", "label": "Sextortion", "national": {"cpims": "OAST"}},
                {"code": "violence.ocsea.grooming", "label": "Grooming", "national": {"cpims": "OAOG"}},
            ],
            "risk_level": "high",
            "child": {
                "age_band": "13-15",
                "age": 14,
                "gender": "girl",
                "region": "KE-047",
                "name": CHILD_NAME,
                "phone": CHILD_PHONE,
                "location": CHILD_LOCATION,
                "languages": ["sw", "en"],
            },
            "people": [
                {
                    "role": "alleged_perpetrator",
                    "relationship": "stranger_online",
                    "age_band": "18+",
                    "name": PERPETRATOR_NAME,
                    "online_identifiers": [PERPETRATOR_HANDLE, "https://social.example/u/991"],
                },
            ],
            "incident": {
                "platform": "instagram",
                "urls": [URL, SECOND_URL],
                "imagery_exists": True,
                "immediate_danger": False,
                "occurred_on": "2026-11-30",
                "summary": SUMMARY,
            },
            "consent": {"status": "given", "by": "child", "method": "verbal", "recorded_at": "2026-12-02T01:50:00Z"},
        }
    )


def document_without(*paths: str, document: dict | None = None) -> dict:
    document = copy.deepcopy(document if document is not None else full_document())
    for path in paths:
        *parents, last = path.split(".")
        node = document
        for key in parents:
            node = node.get(key, {})
        node.pop(last, None)
    return document


def minimal_document() -> dict:
    """What an agency that may receive almost nothing gets: ids, dates, categories."""
    document = full_document()
    return {key: document[key] for key in ("schema", "referral_id", "case_reference", "created_at", "categories")}
