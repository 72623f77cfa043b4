"""Reads of the audit trail: the chain check, and events about one record."""

from dataclasses import dataclass

from django.db.models import QuerySet

from helpline.audit.chain import GENESIS_HASH, HASHED_FIELDS, event_hash
from helpline.audit.models import AuditEvent


@dataclass(frozen=True)
class ChainReport:
    checked: int
    last_id: int | None
    last_hash: str
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem


def audit_chain_verify(*, chunk_size: int = 5000, expect_hash: str = "") -> ChainReport:
    """Walk the whole chain in id order and recompute every hash; stop at the first broken link.

    Memory stays flat: rows are read ``chunk_size`` at a time by keyset (id > last
    seen), never all at once and never with OFFSET. Gaps in the ids are normal
    (a rolled-back transaction consumes an id); only the hash linkage counts.

    ``expect_hash`` is a hash noted earlier outside the database (from a previous
    run's summary). The chain must still contain it: this catches removal of
    the newest events, or a rewrite of the whole chain, which linkage alone
    cannot see.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = None
    seen_expected = not expect_hash
    columns = ("id", "prev_hash", "hash", *HASHED_FIELDS)
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id or 0).order_by("id").values(*columns)[:chunk_size])
        if not rows:
            break
        for row in rows:
            problem = ""
            if row["prev_hash"] != expected_prev:
                if last_id is None:
                    problem = "does not start the chain: earlier events were removed"
                else:
                    problem = (
                        f"does not link to event {last_id}: an event between them was removed, "
                        f"or event {last_id} was changed"
                    )
            elif event_hash(prev_hash=row["prev_hash"], fields=row) != row["hash"]:
                problem = "was changed: its stored hash does not match its contents"
            if problem:
                return ChainReport(
                    checked=checked, last_id=last_id, last_hash=expected_prev, broken_id=row["id"], problem=problem
                )
            expected_prev = row["hash"]
            last_id = row["id"]
            checked += 1
            seen_expected = seen_expected or row["hash"] == expect_hash
    if not seen_expected:
        return ChainReport(
            checked=checked,
            last_id=last_id,
            last_hash=expected_prev,
            problem=f"the expected hash {expect_hash} is not in the chain: events were removed or the chain rewritten",
        )
    return ChainReport(checked=checked, last_id=last_id, last_hash=expected_prev)


def audit_events_for_record(*, record) -> QuerySet[AuditEvent]:
    """Every event about one model instance, newest first (for "who opened this case" views)."""
    return AuditEvent.objects.filter(record_type=record._meta.label_lower, record_id=str(record.pk)).order_by("-id")
