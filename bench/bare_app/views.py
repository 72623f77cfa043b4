"""The bare baselines: a webhook with only what a webhook needs (signature, AES-GCM, one INSERT, empty
TwiML), and the referral API's list and fetch with only what they need (the raw SQL, the document's
decryption, JSON)."""

import json
import os
import secrets
from datetime import datetime
from urllib.parse import urlencode

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from bench.bare_app import referrals

TABLE = "bench_bare_inbound"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    sid varchar(64) NOT NULL UNIQUE,
    sender text NOT NULL,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
VALIDATOR = RequestValidator(os.environ.get("BENCH_TWILIO_TOKEN", ""))
CIPHER = AESGCM(bytes.fromhex(os.environ.get("BENCH_AES_KEY", "00" * 32)))


@csrf_exempt
@require_POST
def bare_inbound(request):
    url = settings.PUBLIC_BASE_URL + request.path
    if not VALIDATOR.validate(url, request.POST, request.headers.get("X-Twilio-Signature", "")):
        return HttpResponseForbidden()
    sid = request.POST.get("MessageSid", "")
    nonce = secrets.token_bytes(12)
    sealed = nonce + CIPHER.encrypt(nonce, request.POST.get("Body", "").encode(), sid.encode())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (sid, sender, body) VALUES (%s, %s, %s) ON CONFLICT (sid) DO NOTHING",  # noqa: S608
            [sid, request.POST.get("From", ""), sealed],
        )
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml; charset=utf-8")


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # a UUID


def _json(body) -> HttpResponse:
    return HttpResponse(json.dumps(body, default=_json_value), content_type="application/json")


def bare_referrals(request):
    """bench/api.py's bare list: one page of the agency's referrals by the raw SQL, as JSON.

    No key, no throttle, no audit: the agency and the cursor are plain query parameters."""
    after = (request.GET["after_at"], request.GET["after_id"]) if "after_at" in request.GET else None
    with connection.cursor() as cursor:
        rows = referrals.page_rows(cursor, request.GET["agency"], after)
    results = [dict(zip(referrals.SUMMARY, row, strict=True)) for row in rows[: referrals.PAGE]]
    last = results[-1] if len(rows) > referrals.PAGE else None
    following = (
        "?" + urlencode({"agency": request.GET["agency"], "after_at": last["updated_at"], "after_id": last["id"]})
        if last
        else None
    )
    return _json({"next": following, "results": results})


def bare_referral(request, referral_id):
    """bench/api.py's bare fetch: the referral's row, events and questions by the raw SQL, its document decrypted."""
    with connection.cursor() as cursor:
        row, events, questions, question_columns = referrals.fetch_rows(cursor, referral_id)
    return _json(
        {
            "referral": dict(zip(referrals.SUMMARY, row, strict=False)),
            "document": referrals.document_open(row),
            "events": [dict(zip(referrals.EVENT_COLUMNS, event, strict=True)) for event in events],
            "questions": [dict(zip(question_columns, question, strict=True)) for question in questions],
        }
    )
