"""A CPIMS stand-in on 127.0.0.1: token auth, field checks answered as HTTP 200 with an error body, duplicates counted.

Like the real system it creates a new case for every POST that has no
``external_id``; a POST whose ``external_id`` it has seen is a duplicate: counted,
answered with the existing case.
"""

import itertools
import secrets
from dataclasses import dataclass, field

import pytest

from referrals.transports import DeliveryRequest
from tests.fakes.http import Recorded, Reply
from tests.integrations.referral_documents import full_document

CATEGORIES = {"CCOA": {"OALS", "OAOG", "OASE", "OAST", "OACB", "OASA"}, "CSAB": set()}


@dataclass
class CpimsStandIn:
    server: object
    token: str
    cases: dict = field(default_factory=dict)  # case id -> report
    by_external_id: dict = field(default_factory=dict)
    duplicates: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(20260001))

    @property
    def url(self) -> str:
        return self.server.url

    def calls(self) -> list[Recorded]:
        return self.server.requests_to("POST", "/api/v1/crs/")

    def case_report(self, request: Recorded) -> Reply:
        if request.headers.get("Authorization") != f"Token {self.token}":
            return Reply(401, json={"detail": "Invalid token."})
        report = request.json()
        category = report.get("case_category")
        if category not in CATEGORIES:
            # CPIMS's way: HTTP 200, an error body that quotes what it got.
            return Reply(200, json={"status": "error", "message": f"Invalid case category {category!r}"})
        for detail in report.get("case_details") or [{}]:
            sub = detail.get("sub_category")
            if detail.get("category") not in CATEGORIES or (sub and sub not in CATEGORIES[detail["category"]]):
                return Reply(200, json={"status": "error", "errors": {"case_details": [f"bad {sub}"]}})
        if report.get("child_sex") not in (None, "SMAL", "SFEM"):
            return Reply(200, json={"status": "error", "errors": {"child_sex": [f"{report['child_sex']} invalid"]}})
        if "case_date" not in report:
            return Reply(400, json={"case_date": ["This field is required."]})
        external_id = report.get("external_id")
        if external_id in self.by_external_id:
            self.duplicates += 1
            return Reply(200, json={"status": "success", "case_id": self.by_external_id[external_id]})
        case_id = f"CPIMS-{next(self._ids)}"
        self.cases[case_id] = report
        if external_id:
            self.by_external_id[external_id] = case_id
        return Reply(200, json={"status": "success", "case_id": case_id})


@pytest.fixture
def cpims(fake_http):
    server = fake_http()
    stand_in = CpimsStandIn(server=server, token=secrets.token_hex(20))
    server.route("POST", "/api/v1/crs/", stand_in.case_report)
    return stand_in


@pytest.fixture
def cpims_request(cpims, kept):
    def build(document=None, *, progress=None, token=None, **config):
        return DeliveryRequest(
            document=full_document() if document is None else document,
            idempotency_key="delivery-63",
            config={"base_url": cpims.url, "org_unit": "1234", "reporter_county": "047", **config},
            secrets={"token": cpims.token if token is None else token},
            progress=dict(kept.progress if progress is None else progress),
            remember=kept,
        )

    return build
