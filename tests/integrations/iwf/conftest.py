"""An IWF stand-in on 127.0.0.1: the partner's credentials and codes, the field limits, Report Remove tokens.

``reports`` holds every URL report it accepted (a report per POST, as the IWF
does); ``hand_offs`` the Report Remove references, each answered with one token
however often it is asked.
"""

import itertools
import secrets
from dataclasses import dataclass, field

import pytest

from referrals.transports import DeliveryRequest
from tests.fakes.http import Recorded, Reply
from tests.integrations.referral_documents import full_document

USERNAME = "childline-ke"
CODES = {"media_type_id": "1", "report_channel_id": "51", "reported_category_id": "2"}
URL_FIELDS = {
    "Reporting_Type",
    "Live_Report",
    "Media_Type_ID",
    "Report_Channel_ID",
    "Reported_Category_ID",
    "Reported_URL",
    "Reporter_Anonymous",
    "Reporter_Country",
    "Reporter_Description",
}
NAMED_FIELDS = {"Reporter_First_Name", "Reporter_Last_Name", "Reporter_Email_ID"}


@dataclass
class IwfStandIn:
    server: object
    password: str
    reports: list = field(default_factory=list)
    hand_offs: dict = field(default_factory=dict)  # reference -> token
    _ids: itertools.count = field(default_factory=lambda: itertools.count(880001))

    @property
    def url(self) -> str:
        return self.server.url

    def calls(self, path: str) -> list[Recorded]:
        return self.server.requests_to("POST", path)

    def report(self, request: Recorded) -> Reply:
        if request.basic_auth != (USERNAME, self.password):
            return Reply(401, json={"error": "Unauthorised"})
        body = request.json()
        problems = []
        allowed = URL_FIELDS | (NAMED_FIELDS if body.get("Reporter_Anonymous") == "N" else set())
        problems += [f"unexpected {key}" for key in set(body) - allowed]
        problems += [f"missing {key}" for key in allowed - set(body) - {"Reporter_Country"}]
        if (
            body.get("Media_Type_ID") != 1
            or body.get("Report_Channel_ID") != 51
            or body.get("Reported_Category_ID") != 2
        ):
            problems.append("codes are not the partner's")
        if len(body.get("Reported_URL", "")) > 1000 or len(body.get("Reporter_Description", "")) > 500:
            problems.append("too long")
        if any(len(body.get(key, "")) > 50 for key in ("Reporter_First_Name", "Reporter_Last_Name")):
            problems.append("name too long")
        if len(body.get("Reporter_Email_ID", "")) > 100:
            problems.append("email too long")
        if problems:
            return Reply(400, json={"errors": problems})
        report_id = next(self._ids)
        self.reports.append(body)
        return Reply(201, json={"Report_ID": report_id})

    def report_remove(self, request: Recorded) -> Reply:
        if request.basic_auth != (USERNAME, self.password):
            return Reply(401, json={"error": "Unauthorised"})
        body = request.json()
        if set(body) != {"age_range", "reference"} or body["age_range"] not in ("13-15", "16-17"):
            return Reply(400, json={"errors": ["only age_range (13-15 or 16-17) and reference"]})
        token = self.hand_offs.setdefault(body["reference"], secrets.token_urlsafe(12))
        return Reply(200, json={"token": token, "url": f"{self.url}/start/{token}"})


def iwf_stand_in_start(fake_http) -> IwfStandIn:
    """A new stand-in on its own port (also for the referrals tests of the Report Remove offer)."""
    server = fake_http()
    stand_in = IwfStandIn(server=server, password=secrets.token_urlsafe(18))
    server.route("POST", "/report", stand_in.report)
    server.route("POST", "/report-remove", stand_in.report_remove)
    return stand_in


@pytest.fixture
def iwf_stand_in(fake_http):
    return iwf_stand_in_start(fake_http)


@pytest.fixture
def iwf_request(iwf_stand_in, kept):
    def build(document=None, *, progress=None, password=None, **config):
        return DeliveryRequest(
            document=full_document() if document is None else document,
            idempotency_key="delivery-52",
            config={"base_url": iwf_stand_in.url, "username": USERNAME, **CODES, **config},
            secrets={"password": iwf_stand_in.password if password is None else password},
            progress=dict(kept.progress if progress is None else progress),
            remember=kept,
        )

    return build
