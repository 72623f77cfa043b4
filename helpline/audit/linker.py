"""The linker: gives every committed audit event its place in the one keyed chain.

``audit_record`` inserts events without any lock, so audited transactions never
wait for each other. The linker runs apart from them (a periodic job every few
seconds, ``manage.py audit_link`` on demand) and, under its own short lock,
appends one ``AuditLink`` per committed, unlinked event: position n+1, the hash of
link n, and the keyed hash of both with the event's stored values.

What this keeps:

- **One order, no fork.** Linkers take a transaction-level advisory lock, so one
  at a time reads the head and appends after it; positions, predecessors, hashes
  and events are each unique in the link table, so even a linker that bypassed
  the lock would fail rather than fork the chain or link an event twice.
- **Nothing lost.** An event is committed with its transaction or not at all; the
  linker sees only committed events (READ COMMITTED), so an event whose writer
  died before committing never appears, and one that committed is linked by the
  next run whichever process wrote it. Events commit in any order; the chain's
  order is the order in which the linker saw them, by id within one run.
- **Bounded work.** Each run looks at events newer than the newest link made more
  than ``LATE_COMMIT_WINDOW`` ago, so its cost follows the recent rate, not the
  table's size. An event whose transaction stayed open longer than that window is
  left for ``audit_link --all``, and ``audit_verify`` reports it once it has been
  unlinked longer than its bound.

The lock is held only for the linker's own read of the head and its insert of a
batch (milliseconds), never while an audited transaction is open.
"""

from datetime import timedelta

from django.db import NotSupportedError, connections, models, router, transaction
from django.utils import timezone

from helpline.audit.chain import GENESIS_HASH, HASHED_FIELDS, link_hash
from helpline.audit.models import AuditEvent, AuditLink

# Linkers take this PostgreSQL advisory lock ("auditlnk" in ASCII); writers never do.
LINK_LOCK_KEY = 0x61756469746C6E6B
BATCH_SIZE = 1000
LATE_COMMIT_WINDOW = timedelta(minutes=5)


def audit_link_pending(*, using: str | None = None, batch_size: int = BATCH_SIZE, everything: bool = False) -> int:
    """Link every committed event that has no link yet, in batches; return how many were linked.

    ``everything`` looks at the whole table instead of the recent window (after an
    upgrade, or for an event whose transaction stayed open for minutes).
    """
    using = using or router.db_for_write(AuditEvent)
    total = 0
    while True:
        linked = _link_batch(using=using, batch_size=batch_size, everything=everything)
        total += linked
        if linked < batch_size:
            return total


def _link_batch(*, using: str, batch_size: int, everything: bool) -> int:
    with transaction.atomic(using=using):
        _linker_lock(connections[using])
        head = AuditLink.objects.using(using).order_by("-position").values("position", "hash", "linked_at").first()
        position, prev_hash = (head["position"], head["hash"]) if head else (0, GENESIS_HASH)
        floor = 0 if everything or head is None else _scan_floor(using, head_linked_at=head["linked_at"])
        events = list(
            AuditEvent.objects.using(using)
            .filter(id__gt=floor, link__isnull=True)
            .order_by("id")
            .values("id", *HASHED_FIELDS)[:batch_size]
        )
        linked_at = timezone.now()
        links = []
        for event in events:
            position += 1
            digest = link_hash(
                position=position, prev_hash=prev_hash, linked_at=linked_at, event_id=event["id"], fields=event
            )
            link = AuditLink(position=position, event_id=event["id"], prev_hash=prev_hash, hash=digest)
            link.linked_at = linked_at
            links.append(link)
            prev_hash = digest
        # The managers refuse bulk writes to the trail; this module is the one writer of links.
        models.QuerySet(AuditLink, using=using).bulk_create(links)
    return len(links)


def _scan_floor(using: str, *, head_linked_at) -> int:
    """The event id below which every committed event is already linked, unless it committed very late.

    Ids are taken at insert. Take the newest link L made at least the window before
    the newest link of all: an unlinked event with a lower id than L's was inserted
    before L was made, and was still uncommitted when the newest link was made (that
    run would have linked it), so its transaction stayed open longer than the window.
    Measured from the newest link rather than from now, so a linker that was stopped
    for an hour misses nothing when it starts again.
    """
    cutoff = head_linked_at - LATE_COMMIT_WINDOW
    old = AuditLink.objects.using(using).filter(linked_at__lt=cutoff).order_by("-position").values("event_id").first()
    return old["event_id"] if old else 0


def _linker_lock(connection) -> None:
    """One linker at a time reads the head and appends after it; writers of events never wait for it."""
    if connection.vendor == "postgresql":
        # Transaction-scoped: released at commit or rollback, never leaked.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINK_LOCK_KEY])
    elif connection.vendor == "sqlite":
        # Every SQLite write transaction is opened with BEGIN IMMEDIATE (settings), which
        # already holds the database's single write lock.
        pass
    else:
        raise NotSupportedError(f"The audit trail supports PostgreSQL and SQLite, not {connection.vendor}.")
