"""Twilio fixtures: endpoints named for their role, requests signed with Twilio's own library,
a fake Twilio REST API on 127.0.0.1, and uvicorn serving the app for end-to-end runs."""

import logging
import secrets
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from tests.fakes.http import FakeHttpServer, Recorded, Reply

ROOT = Path(__file__).resolve().parents[3]
MESSAGES_PATH = "/integrations/twilio/messages/"
STATUS_PATH = "/integrations/twilio/status/"

SMS_NUMBER = "+15551230000"
WHATSAPP_NUMBER = "+15551230009"
CHILD = "+15557654321"  # the person writing in
OTHER_CHILD = "+15557650000"
BODY = "He says he will post my pictures tonight unless I pay"
SECOND_BODY = "I am scared to tell my mum"
# Nothing of these may ever reach a log line.
NEVER_LOGGED = [CHILD, CHILD.lstrip("+"), "5557654321", OTHER_CHILD, BODY, SECOND_BODY, "post my pictures"]


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def endpoint_create(line, *, channel: str, address: str, token: str, account: str = "", active: bool = True):
    from helpline.models import ChannelEndpoint
    from helpline.vault.services import datakey_create, seal

    endpoint = ChannelEndpoint(
        line=line,
        channel=channel,
        address=address,
        provider_account=account or "AC" + secrets.token_hex(16),
        data_key=datakey_create(),
        active=active,
    )
    seal(endpoint, "provider_secret", token)
    endpoint.save()
    return endpoint


@pytest.fixture
def auth_token():
    return secrets.token_hex(16)


@pytest.fixture
def sms_endpoint(demo_line, auth_token):
    return endpoint_create(demo_line, channel="sms", address=SMS_NUMBER, token=auth_token)


@pytest.fixture
def whatsapp_endpoint(demo_line, auth_token):
    return endpoint_create(demo_line, channel="whatsapp", address=WHATSAPP_NUMBER, token=auth_token)


def inbound_params(*, sender=CHILD, to=SMS_NUMBER, body=BODY, sid=None, whatsapp=False, **extra) -> dict:
    """A form post shaped like Twilio's inbound message webhook."""
    prefix = "whatsapp:" if whatsapp else ""
    params = {
        "ToCountry": "US",
        "SmsMessageSid": sid or new_sid(),
        "NumMedia": "0",
        "SmsSid": "",
        "SmsStatus": "received",
        "Body": body,
        "To": prefix + to,
        "NumSegments": "1",
        "MessageSid": "",
        "AccountSid": "AC" + "0" * 32,
        "From": prefix + sender,
        "ApiVersion": "2010-04-01",
    }
    params["SmsSid"] = params["MessageSid"] = params["SmsMessageSid"]
    params.update(extra)
    return {key: value for key, value in params.items() if value is not None}


def status_params(*, sid, status, line_number=SMS_NUMBER, to=CHILD, whatsapp=False, **extra) -> dict:
    prefix = "whatsapp:" if whatsapp else ""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "From": prefix + line_number,
        "To": prefix + to,
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return {key: value for key, value in params.items() if value is not None}


def signature_for(token: str, url: str, params: dict) -> str:
    return RequestValidator(token).compute_signature(url, params)


@pytest.fixture
def twilio_post(client, settings):
    """POST ``params`` to ``path`` as Twilio would, signed for PUBLIC_BASE_URL + path (or ``signed_url``)."""

    def post(path, params, *, token, signed_url=None, signature=None, query=""):
        url = signed_url or settings.PUBLIC_BASE_URL + path + (f"?{query}" if query else "")
        headers = {}
        if signature is None:
            signature = signature_for(token, url, params)
        if signature:
            headers["X-Twilio-Signature"] = signature
        return client.post(path + (f"?{query}" if query else ""), params, headers=headers)

    return post


@pytest.fixture(autouse=True)
def _forget_cached_endpoints():
    """Test transactions roll back without signals, so the endpoint cache is emptied around each test."""
    from integrations.twilio.endpoints import endpoint_cache_clear

    endpoint_cache_clear()
    yield
    endpoint_cache_clear()


@pytest.fixture(autouse=True)
def nothing_sensitive_logged(caplog):
    """Every Twilio test also checks that no body or number reached a log record."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="integrations")
    yield
    for value in NEVER_LOGGED:
        assert value not in caplog.text, "a message body or phone number was logged"


# --- A fake Twilio REST API ---------------------------------------------------------

MESSAGES_API = "/2010-04-01/Accounts/{account}/Messages.json"

# Twilio's answers to a refused message, by error code.
TWILIO_ERRORS = {
    "63016": (400, "Failed to send freeform message because you are outside the allowed window."),
    "21211": (400, "The 'To' number is not a valid phone number."),
    "20429": (429, "Too Many Requests"),
    "20003": (401, "Authenticate"),
}


def twilio_error(code: str) -> Reply:
    status, message = TWILIO_ERRORS[code]
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return Reply(status, json={"code": int(code), "message": message, "more_info": more_info, "status": status})


def twilio_created(request: Recorded, *, sid: str | None = None) -> Reply:
    """Twilio's 201 for a message it accepted, echoing the request."""
    form = request.form
    return Reply(
        201,
        json={
            "sid": sid or new_sid(),
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Thu, 30 Jul 2015 20:12:31 +0000",
            "error_code": None,
            "error_message": None,
        },
    )


class FakeTwilio:
    """Twilio's Messages API on a fake HTTP server (tests/fakes/http.py), where the gateway sends.

    It accepts every message unless told otherwise: ``answer_with(twilio_error("63016"))``,
    ``answer_with(Reply(500))``, or any answer the harness takes (a callable that
    does something first, such as posting the status callback).
    """

    def __init__(self, server: FakeHttpServer):
        self.server = server
        self.url = server.url
        self.answer_with(twilio_created)

    def answer_with(self, *answers, then=None) -> None:
        self.server.route("POST", MESSAGES_API, *answers, then=then)

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests_to("POST", MESSAGES_API)


@pytest.fixture
def fake_twilio(fake_http, settings):
    fake = FakeTwilio(fake_http())
    settings.TWILIO_API_BASE_URL = fake.url
    return fake


# --- The app under uvicorn -------------------------------------------------------------


@pytest.fixture(scope="session")
def uvicorn_server(asgi_server):
    return asgi_server
