"""Twilio fixtures: endpoints named for their role, requests signed with Twilio's own library,
a fake Twilio REST API on 127.0.0.1, and uvicorn serving the app for end-to-end runs."""

import json
import logging
import secrets
import threading
from base64 import b64decode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from twilio.request_validator import RequestValidator

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


class FakeTwilio:
    """Answers like Twilio's Messages API. ``mode``: ok, 63016, 21211, 429, 500, 401."""

    ERRORS = {
        "63016": (
            400,
            {
                "code": 63016,
                "message": "Failed to send freeform message because you are outside the allowed window.",
                "more_info": "https://www.twilio.com/docs/errors/63016",
                "status": 400,
            },
        ),
        "21211": (
            400,
            {
                "code": 21211,
                "message": "The 'To' number is not a valid phone number.",
                "more_info": "https://www.twilio.com/docs/errors/21211",
                "status": 400,
            },
        ),
        "429": (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
        "401": (401, {"code": 20003, "message": "Authenticate", "status": 401}),
    }

    def __init__(self):
        self.mode = "ok"
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                auth = self.headers.get("Authorization", "")
                user, _, password = b64decode(auth.split(" ", 1)[1]).decode().partition(":") if auth else ("", "", "")
                with fake.lock:
                    fake.requests.append({"path": self.path, "form": form, "user": user, "password": password})
                fake.answer(self, form)

            def log_message(self, *args):
                pass  # the request line is enough in fake.requests

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, handler, form):
        if self.mode == "ok":
            status, payload = (
                201,
                {
                    "sid": new_sid(),
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
            body = json.dumps(payload).encode()
            content_type = "application/json"
        elif self.mode == "500":
            status, body, content_type = 500, b"Internal Server Error", "text/plain"
        else:
            status, payload = self.ERRORS[self.mode]
            body, content_type = json.dumps(payload).encode(), "application/json"
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def fake_twilio(settings):
    fake = FakeTwilio()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    settings.TWILIO_API_BASE_URL = fake.url
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


# --- The app under uvicorn -------------------------------------------------------------


@pytest.fixture(scope="session")
def uvicorn_server(asgi_server):
    return asgi_server
