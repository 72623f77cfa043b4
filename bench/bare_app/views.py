"""A webhook with only what a webhook needs: signature, AES-GCM, one INSERT, empty TwiML."""

import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

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
