"""Reads of the audit trail: the chain check, and events about one record."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from helpline.audit.chain import GENESIS_HASH, HASHED_FIELDS, link_hash
from helpline.audit.models import AuditEvent, AuditLink

# A committed event must be linked within this long (the linker runs every few seconds).
UNLINKED_BOUND = timedelta(minutes=10)
EXPECT_PATTERN = re.compile(r"^(?P<hash>[0-9a-f]{64})(?:@(?P<position>[1-9][0-9]*))?$")


@dataclass(frozen=True)
class ChainReport:
    checked: int
    last_position: int
    last_event_id: int | None
    last_hash: str
    unlinked: int = 0
    broken_id: int | None = None
    broken_position: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem

    @property
    def export(self) -> str:
        """The newest link as ``HASH@POSITION``, to keep somewhere the database's administrators cannot edit."""
        return f"{self.last_hash}@{self.last_position}"


def audit_expectation_parse(text: str) -> tuple[str, int | None]:
    """``HASH`` or ``HASH@POSITION`` (as printed by ``audit_verify --export``) → (hash, position or None)."""
    match = EXPECT_PATTERN.match(text.strip().lower())
    if not match:
        raise ValueError("An expected link is 64 hex characters, optionally followed by @POSITION")
    return match["hash"], int(match["position"]) if match["position"] else None


def audit_chain_verify(
    *,
    chunk_size: int = 5000,
    expect_hash: str = "",
    expect_position: int | None = None,
    unlinked_bound: timedelta = UNLINKED_BOUND,
) -> ChainReport:
    """Walk the whole chain by position, recompute every keyed hash, stop at the first broken link.

    Then check that no event has waited longer than ``unlinked_bound`` for its link
    (the linker stopped, or someone inserted an event and kept it out of the chain),
    and that the link noted earlier outside the database (``expect_hash``, at
    ``expect_position`` when given) is still there: linkage alone cannot see the
    newest links being cut off, nor a whole chain recomputed by a holder of the key.

    Memory stays flat: links are read ``chunk_size`` at a time by keyset, never all
    at once and never with OFFSET.
    """
    expected_prev = GENESIS_HASH
    position = 0
    last_event_id = None
    found_expected = not expect_hash
    columns = ["position", "prev_hash", "hash", "linked_at", "event_id"]
    columns += [f"event__{name}" for name in HASHED_FIELDS]
    while True:
        rows = list(AuditLink.objects.filter(position__gt=position).order_by("position").values(*columns)[:chunk_size])
        if not rows:
            break
        for row in rows:
            problem = _link_problem(row, position=position, expected_prev=expected_prev, last_event_id=last_event_id)
            if problem:
                return ChainReport(
                    checked=position,
                    last_position=position,
                    last_event_id=last_event_id,
                    last_hash=expected_prev,
                    broken_id=row["event_id"],
                    broken_position=row["position"],
                    problem=problem,
                )
            if expect_hash and row["hash"] == expect_hash:
                if expect_position is not None and row["position"] != expect_position:
                    return _failed(
                        position,
                        last_event_id,
                        expected_prev,
                        f"the expected hash stands at position {row['position']}, not {expect_position}",
                    )
                found_expected = True
            expected_prev = row["hash"]
            position = row["position"]
            last_event_id = row["event_id"]
    if not found_expected:
        if expect_position is not None and expect_position > position:
            problem = (
                f"the chain ends at position {position}, before the expected position {expect_position}: "
                "the newest events were removed"
            )
        else:
            problem = f"the expected hash {expect_hash} is not in the chain: events were removed or the chain rewritten"
        return _failed(position, last_event_id, expected_prev, problem)
    unlinked = AuditEvent.objects.filter(link__isnull=True)
    overdue = unlinked.filter(created_at__lt=timezone.now() - unlinked_bound).order_by("id").first()
    if overdue is not None:
        report = _failed(
            position,
            last_event_id,
            expected_prev,
            f"has waited for its link since {overdue.created_at:%Y-%m-%d %H:%M:%S} UTC, longer than "
            f"{int(unlinked_bound.total_seconds())} s: the linker is not running "
            "(run audit_link --all), or the event was kept out of the chain",
        )
        return ChainReport(**{**report.__dict__, "broken_id": overdue.pk})
    return ChainReport(
        checked=position,
        last_position=position,
        last_event_id=last_event_id,
        last_hash=expected_prev,
        unlinked=unlinked.count(),
    )


def _link_problem(row, *, position: int, expected_prev: str, last_event_id: int | None) -> str:
    if row["position"] != position + 1:
        return f"follows a gap: position {position + 1} is missing (a link or its event was removed)"
    if row["prev_hash"] != expected_prev:
        if position == 0:
            return "does not start the chain: it points at a predecessor that is not the chain's start"
        return (
            f"does not link to position {position} (event {last_event_id}): links were removed or reordered, "
            f"or position {position} was changed"
        )
    fields = {name: row[f"event__{name}"] for name in HASHED_FIELDS}
    digest = link_hash(
        position=row["position"],
        prev_hash=row["prev_hash"],
        linked_at=row["linked_at"],
        event_id=row["event_id"],
        fields=fields,
    )
    if digest != row["hash"]:
        return (
            "was changed, moved or forged: the keyed hash of its link does not match the event "
            "and its place in the chain"
        )
    return ""


def _failed(position: int, last_event_id: int | None, last_hash: str, problem: str) -> ChainReport:
    return ChainReport(
        checked=position, last_position=position, last_event_id=last_event_id, last_hash=last_hash, problem=problem
    )


def audit_events_for_record(*, record) -> QuerySet[AuditEvent]:
    """Every event about one model instance, newest first (for "who opened this case" views)."""
    return AuditEvent.objects.filter(record_type=record._meta.label_lower, record_id=str(record.pk)).order_by("-id")
