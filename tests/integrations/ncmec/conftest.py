"""A CyberTipline stand-in on 127.0.0.1: HTTP Basic, the XML checked against NCMEC's XSD, NCMEC's response codes.

It keeps the reports it holds (open, finished, retracted) and answers
``/submit``, ``/finish`` and ``/retract`` the way DOMAIN.md describes the real
API; ``answer_next(path, code)`` makes the next call to a path fail with a code,
``lose_answer_next(path)`` does the call and then drops the connection (the
receiver acted, the client never heard), ``drop_next(path)`` drops it without
acting (the request never arrived).
"""

import itertools
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import pytest
import xmlschema

from integrations.ncmec.report import SCHEMA_PATH
from referrals.transports import DeliveryRequest
from tests.fakes.http import Recorded, Reply
from tests.integrations.referral_documents import full_document

USERNAME = "helpline-esp"


def _response(code: int, description: str = "", report_id: str = "") -> Reply:
    report = f"<reportId>{report_id}</reportId>" if report_id else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><reportResponse>'
        f"<responseCode>{code}</responseCode><responseDescription>{description}</responseDescription>{report}"
        "</reportResponse>"
    )
    return Reply(200, body=body, headers={"Content-Type": "text/xml"})


@dataclass
class CyberTipline:
    server: object
    password: str
    schema: xmlschema.XMLSchema
    reports: dict = field(default_factory=dict)  # id -> {"state": ..., "xml": bytes}
    forced: dict = field(default_factory=dict)  # path -> [code or "lose"]
    _ids: itertools.count = field(default_factory=lambda: itertools.count(61000001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.server.url

    def answer_next(self, path: str, code: int) -> None:
        self.forced.setdefault(path, []).append(code)

    def lose_answer_next(self, path: str) -> None:
        self.forced.setdefault(path, []).append("lose")

    def drop_next(self, path: str) -> None:
        self.forced.setdefault(path, []).append("drop")

    def calls(self, path: str) -> list[Recorded]:
        return self.server.requests_to("POST", path)

    def states(self) -> list[str]:
        return [report["state"] for report in self.reports.values()]

    # --- the API ---

    def answer(self, request: Recorded, path: str) -> Reply:
        if request.basic_auth != (USERNAME, self.password):
            return Reply(
                401, body=_response(2000, "Authentication required").body, headers={"Content-Type": "text/xml"}
            )
        with self._lock:
            forced = self.forced.get(path) or []
            action = forced.pop(0) if forced else None
            if isinstance(action, int):
                return _response(action, "Forced failure")
            if action == "drop":
                return Reply(drop=True)
            reply = getattr(self, "_" + path.strip("/"))(request)
        return Reply(drop=True) if action == "lose" else reply

    def _submit(self, request: Recorded) -> Reply:
        try:
            errors = list(self.schema.iter_errors(request.body))
        except xmlschema.XMLSchemaException:
            return _response(4110, "Malformed XML")
        if errors:
            return _response(4100, "Validation failed")
        report_id = str(next(self._ids))
        self.reports[report_id] = {"state": "open", "xml": request.body}
        return _response(0, "Success", report_id)

    def _finish(self, request: Recorded) -> Reply:
        report_id, report = self._report(request)
        if report is None:
            return _response(5001, "No such report")
        if report["state"] == "retracted":
            return _response(5101, "Report already retracted")
        if report["state"] == "finished":
            return _response(5102, "Report already finished")
        report["state"] = "finished"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><reportDoneResponse><responseCode>0</responseCode>'
            f"<reportId>{report_id}</reportId><files/></reportDoneResponse>"
        )
        return Reply(200, body=body, headers={"Content-Type": "text/xml"})

    def _retract(self, request: Recorded) -> Reply:
        report_id, report = self._report(request)
        if report is None:
            return _response(5001, "No such report")
        if report["state"] == "finished":
            return _response(5102, "Report already finished")
        if report["state"] == "retracted":
            return _response(5101, "Report already retracted")
        report["state"] = "retracted"
        return _response(0, "Success", report_id)

    def _report(self, request: Recorded):
        report_id = (parse_qs(request.text).get("id") or [""])[0]
        return report_id, self.reports.get(report_id)


@pytest.fixture(scope="session")
def ncmec_schema():
    return xmlschema.XMLSchema(SCHEMA_PATH)


@pytest.fixture
def cybertipline(fake_http, ncmec_schema):
    server = fake_http()
    tipline = CyberTipline(server=server, password=secrets.token_urlsafe(18), schema=ncmec_schema)
    for path in ("/submit", "/finish", "/retract"):
        server.route("POST", path, lambda request, path=path: tipline.answer(request, path))
    return tipline


@pytest.fixture
def ncmec_request(cybertipline, kept):
    """A delivery request for the full document, to the stand-in; ``ncmec_request(document=..., **config)``."""

    def build(document=None, *, progress=None, password=None, **config):
        return DeliveryRequest(
            document=full_document() if document is None else document,
            idempotency_key="delivery-41",
            config={
                "base_url": cybertipline.url,
                "username": USERNAME,
                "reporter_first_name": "Grace",
                "reporter_last_name": "Achieng",
                **config,
            },
            secrets={"password": cybertipline.password if password is None else password},
            progress=dict(kept.progress if progress is None else progress),
            remember=kept,
        )

    return build
