"""The hash chain's arithmetic: one canonical serialisation, shared by writer and verifier.

An event's hash is ``sha256(prev_hash + canonical JSON of its stored fields)``.
The JSON has sorted keys, no whitespace, ASCII only, and timestamps in UTC with
microseconds, so the verifier recomputes exactly what the writer hashed from
the values the database gives back.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

# The first event links to this instead of a predecessor.
GENESIS_HASH = "0" * 64

# Every stored field except the primary key and the two hashes. The id is left
# out on purpose: it is assigned by the database after hashing, and the
# linkage through prev_hash already fixes each event's place in the chain.
HASHED_FIELDS = (
    "action",
    "actor_id",
    "actor_username",
    "created_at",
    "details",
    "ip_address",
    "reason",
    "record_id",
    "record_type",
    "subject_id",
    "subject_username",
)


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def canonical_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(*, prev_hash: str, fields: Mapping) -> str:
    """The hash of one event, given its predecessor's hash and its stored field values."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["created_at"] = canonical_timestamp(payload["created_at"])
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode("ascii")).hexdigest()
