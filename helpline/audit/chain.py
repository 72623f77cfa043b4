"""The chain's arithmetic: one canonical serialisation and one keyed hash, shared by linker and verifier.

A link's hash is ``HMAC-SHA256(audit key, canonical JSON of {position, prev_hash,
linked_at, event id, every stored field of the event})``. The audit key is derived
from the key set (``helpline.vault.keyed_hash``, purpose ``audit-chain``), which is
never in the database: whoever can write SQL but does not hold the key set cannot
make a changed, inserted or reordered event verify.

The JSON has sorted keys, no whitespace, ASCII only, and timestamps in UTC with
microseconds, so the verifier recomputes exactly what the linker hashed from the
values the database gives back.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from helpline.vault.keyed_hash import HashPurpose, keyed_hash

# The first link points at this instead of a predecessor.
GENESIS_HASH = "0" * 64

# Every stored field of an event except its id (hashed separately, as "event").
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


def link_hash(*, position: int, prev_hash: str, linked_at: datetime, event_id: int, fields: Mapping) -> str:
    """The keyed hash of one link: the event's place in the chain, its predecessor and its stored values."""
    event = {name: fields[name] for name in HASHED_FIELDS}
    event["created_at"] = canonical_timestamp(event["created_at"])
    payload = {
        "event": event_id,
        "fields": event,
        "linked_at": canonical_timestamp(linked_at),
        "position": position,
        "prev_hash": prev_hash,
    }
    return keyed_hash(purpose=HashPurpose.AUDIT_CHAIN, value=canonical_json(payload))
