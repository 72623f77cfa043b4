"""The webhook signature: HMAC-SHA256 under the agency's secret over ``<timestamp>.<body>``.

    X-Helpline-Timestamp: 1764640800
    X-Helpline-Signature: v1=5f2c…(64 hex digits)

The timestamp (Unix seconds, when the attempt was made) is inside the signature, so a
captured request cannot be replayed later than the receiver's tolerance; the body is
signed byte for byte as sent, so receivers verify the raw body before parsing it.
"""

import hashlib
import hmac
import time

SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def signature_compute(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signature_headers(*, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "X-Helpline-Timestamp": timestamp,
        "X-Helpline-Signature": signature_compute(secret=secret, timestamp=timestamp, body=body),
    }


def signature_verify(
    *,
    secret: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: a fresh timestamp and a signature over it and the raw body."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return False
    expected = signature_compute(secret=secret, timestamp=str(sent_at), body=body)
    return hmac.compare_digest(expected, signature or "")
