"""The outbox: work handed to the outside world, delivered at least once, never lost.

A reply to a child (``helpline.services.outbound``) and, later, a referral to
an agency are both *items*: rows that carry what must go out and the state of
its delivery. This module holds the machinery they share:

- **atomic hand-over**: ``outbox_enqueue`` writes the delivery task inside the
  caller's transaction (django-tasks-db keeps tasks in the same database), so
  an item is never committed without its delivery, nor a delivery without
  its item;
- **claiming** with ``SELECT … FOR UPDATE SKIP LOCKED``: two workers never send
  the same item at once, and neither waits for the other;
- **the send itself outside any transaction**, so a slow receiver holds no lock;
- **attempts with exponential backoff and jitter** up to a maximum
  (``helpline.retry.RetryPolicy``); a permanent failure is not retried;
- **resume after a crash**: ``outbox_sweep`` puts back in line an item a dead
  worker left claimed, and re-enqueues an item whose task was lost. The
  periodic runner calls it every minute; the embedded worker also calls it at start.
  A kind delivered straight after commit writes no task for it (``Outbox.untasked``);
  ``outbox_overdue_deliver``, every few seconds, delivers one whose process died first.

- **batches**, for a kind whose ``batch_size`` is above 1 (referrals:
  ``REFERRAL_DELIVERY_BATCH``): the task of one item claims, in the same short
  transaction, up to that many due items of its kind whose tasks are waiting,
  sends them one after the other, and records every outcome in one transaction.
  The claimed items' own tasks are closed in the claim transaction (they would
  find nothing to do), so a burst of N items costs about N / batch claims and
  commits instead of N of each. A batch stops starting sends after
  ``BATCH_SEND_SECONDS`` and puts what it did not try back in line, so a slow
  receiver never keeps a claim anywhere near ``stall_after``. Both ends are
  set-based: the claim is one locking read of the tasks and one statement that
  claims the items and closes their tasks, then the kind reads what the sends
  need as plain rows (``Outbox.begin_rows``); the successes are recorded by the
  kind in bulk (``Outbox.succeeded_rows``), not one model instance per item.

Delivery is therefore *at least once*: a worker that dies after the receiver
took the item but before the outcome was recorded sends it again (in a batch:
every item of the batch whose outcome was not recorded). Receivers that must
see it once get an idempotency key (the item's id).

An outbox kind subclasses ``Outbox``, registers itself with ``outbox_register``
at import time, and its model inherits ``OutboxItem`` for the shared columns.
"""

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import connection, connections, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from helpline.bulk import rows_update
from helpline.realtime import database_call
from helpline.registry import NamedRegistry
from helpline.retry import RetryPolicy
from helpline.sender import sender_main

logger = logging.getLogger(__name__)

# A pending item whose task has not run this long after it was due is enqueued again.
LOST_TASK_GRACE = timedelta(minutes=2)
# At most this many overdue items delivered at once are attempted per run of the periodic job.
OVERDUE_LIMIT = 200
# A batch starts no new send after this many seconds; the rest go back in line for the next task.
BATCH_SEND_SECONDS = 20.0
# A batch task claims no further batch after this many seconds, so the worker's other tasks (a reply to
# a child) wait behind a burst of deliveries no longer than this and one batch.
BATCH_DRAIN_SECONDS = 1.0
# How long a worker's first batch waits for its sender process to be ready (Django set up in it).
SENDER_START_SECONDS = 30.0


class DeliveryError(Exception):
    """An attempt that did not go through. ``reason`` is shown to staff in plain words.

    ``permanent`` failures (an invalid number, a receiver that refuses the
    document) are not retried; others are, with backoff. Never put protected
    content (a message, a name, a number) into ``reason``.
    """

    def __init__(self, reason: str, *, permanent: bool, code: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code

    def __reduce__(self):
        # Pickled from the sender process to the worker (its keyword arguments are not in ``args``).
        return _delivery_error, (type(self), self.reason, self.permanent, self.code)


def _delivery_error(kind: type[DeliveryError], reason: str, permanent: bool, code: str) -> DeliveryError:
    return kind(reason, permanent=permanent, code=code)


class OutboxItem(models.Model):
    """The columns every outbox item needs, whatever else it carries."""

    attempts = models.PositiveSmallIntegerField(default=0)
    # When a worker claimed it; an item claimed long ago belongs to a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the next attempt is due (set while the item waits for one).
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Outbox:
    """One kind of outgoing work. Subclasses say what "waiting" and "in flight" mean for their model.

    The hooks run with the item's row locked, inside the outbox's own short
    transactions; each returns the names of the fields it changed.
    """

    name: ClassVar[str]
    model: ClassVar[type[OutboxItem]]
    # An item claimed longer ago than this is taken to be abandoned by a dead worker.
    stall_after: ClassVar[timedelta] = timedelta(minutes=5)

    def policy(self) -> RetryPolicy:
        raise NotImplementedError

    def batch_size(self) -> int:
        """How many due items one task claims and sends together (1: its own only)."""
        return 1

    def queryset(self) -> QuerySet:
        """Every item of this kind, with what ``begin`` reads joined."""
        return self.model.objects.all()

    def pending(self) -> Q:
        """Waiting for an attempt."""
        raise NotImplementedError

    def in_flight(self) -> Q:
        """Claimed by a worker, outcome not yet recorded."""
        raise NotImplementedError

    def untasked(self) -> Q | None:
        """Items stored without a task, to be delivered straight after their commit (``outbox_attempt_async``);
        ``outbox_overdue_deliver`` delivers one that is still waiting after the grace. None: every item has one."""
        return None

    def begin(self, item) -> tuple[Any, list[str]]:
        """Mark the item in flight; return what ``send`` needs (read now, under the lock) and the changed fields."""
        raise NotImplementedError

    def claimed(self) -> dict:
        """The field values that mark a claimed item in flight (a batch's claim writes them set-based).
        Only a kind whose ``batch_size`` is above 1 needs it."""
        raise NotImplementedError

    def begin_rows(self, ids: list[str]) -> list[Any]:
        """What ``send`` needs for each of a batch's claimed items (locked, in flight), in the order of ``ids``:
        read as plain rows, not instances. Only a kind whose ``batch_size`` is above 1 needs it."""
        raise NotImplementedError

    def send(self, payload) -> Any:
        """Hand it over. Called outside any transaction; raises DeliveryError."""
        raise NotImplementedError

    async def asend(self, payload) -> Any:
        """``send`` from the event loop (``outbox_attempt_async``); a kind that can await natively overrides it."""
        return await database_call(self.send)(payload)

    def outcome_before_send(self, payload) -> Any | None:
        """The send's result when it is known before sending (a hand-over that only succeeds or fails
        to be retried), so ``outbox_attempt_async`` records it in the claim's transaction; else None."""
        return None

    def claim_recorded(self, item_id, payload, result) -> bool | None:
        """Claim the pending, due item and record ``result`` (known before sending) in one statement,
        announcing what ``announce`` would; whether it was claimed, or None when the kind cannot
        (the full claim then runs). Only called when the caller built the send's payload itself."""
        return None

    def succeeded(self, item, result) -> list[str]:
        raise NotImplementedError

    def succeeded_rows(self, outcomes: list[tuple[str, Any]]) -> None:
        """``succeeded`` for a batch's ``(item id, result)`` pairs, set-based: each item marked done with
        ``claimed_at`` None, and what follows (inside the batch's transaction; ``announce`` is this hook's to
        call). Only a kind whose ``batch_size`` is above 1 needs it."""
        raise NotImplementedError

    def retry_later(self, item, error: DeliveryError) -> list[str]:
        """Mark the item pending again (the next attempt is already scheduled)."""
        raise NotImplementedError

    def give_up(self, item, error: DeliveryError) -> list[str]:
        raise NotImplementedError

    def released(self) -> dict:
        """The field values that make an abandoned in-flight item pending again."""
        raise NotImplementedError

    def announce(self, item) -> None:
        """Tell whoever watches (after commit) that the item's state changed. Optional."""


_outboxes: NamedRegistry[Outbox] = NamedRegistry("outbox")


def outbox_register(outbox: Outbox) -> Outbox:
    """Make an outbox kind known to the delivery task and the sweep (called at import by its module)."""
    return _outboxes.register(outbox)


def outbox_get(name: str) -> Outbox:
    return _outboxes.get(name)


def outboxes_registered() -> list[Outbox]:
    return _outboxes.items()


def outbox_enqueue(outbox: Outbox, item_id, *, run_after=None) -> str:
    """Schedule an attempt for one item, inside the caller's transaction (committed or rolled back with it).

    Returns the task's id.
    """
    runner = outbox_deliver.using(run_after=run_after) if run_after is not None else outbox_deliver
    return str(runner.enqueue(outbox.name, str(item_id)).id)


@task()
def outbox_deliver(outbox_name: str, item_id: str) -> str:
    """The background task: one attempt for one item (and, for a batching kind, for the due items beside it)."""
    outbox = outbox_get(outbox_name)
    if outbox.batch_size() > 1:
        return outbox_attempt_batch(outbox=outbox, item_id=item_id)
    return outbox_attempt(outbox=outbox, item_id=item_id)


def outbox_attempt(*, outbox: Outbox, item_id: str) -> str:
    """Claim the item, send it outside any transaction, record the outcome. Safe to run twice.

    Unlike ``outbox_attempt_async``, the outcome is recorded after the send even when the kind knows it
    before: this is the worker's path, the one a crash falls back to, so a worker killed before its hand-over
    leaves the item claimed for the sweep to put back in line, never recorded done and not sent.
    """
    payload, recorded = _claim_recording(outbox, item_id, record=False)
    if payload is _NOTHING:
        return "skipped"
    try:
        result = outbox.send(payload)
    except DeliveryError as error:
        return _failed(outbox, item_id, error)
    if recorded:
        return "sent"
    return _succeeded(outbox, item_id, result)


async def outbox_attempt_async(*, outbox: Outbox, item_id: str, payload: Any = None) -> str:
    """``outbox_attempt`` from the event loop: the same claim and outcome, the send awaited natively.

    Used to deliver at once after a commit (web chat replies), which writes no task: if this
    attempt never happens (the process died), ``outbox_overdue_deliver`` makes it once the item
    is overdue; whichever claims the item first sends it, the other finds it no longer pending
    and skips, so it goes out once.

    When the kind knows the outcome before sending (``Outbox.outcome_before_send``: the
    web chat's hand-over to the channel layer), the claim and the outcome are one
    transaction and the send follows its commit; a send that fails then puts the item
    back in line (``_failed``) as any failed attempt does, with a task for its retry.

    ``payload``, when the caller already knows what ``send`` needs, lets a kind claim and
    record in one statement without reading the item (``Outbox.claim_recorded``).
    """
    claimed = None
    if payload is not None:
        claimed = await database_call(_claim_recorded)(outbox, item_id, payload)
    if claimed is None:
        payload, recorded = await database_call(_claim_recording)(outbox, item_id)
    else:
        payload, recorded = (payload if claimed else _NOTHING), True
    if payload is _NOTHING:
        return "skipped"
    try:
        result = await outbox.asend(payload)
    except DeliveryError as error:
        return await database_call(_failed)(outbox, item_id, error)
    if recorded:
        return "sent"
    return await database_call(_succeeded)(outbox, item_id, result)


_NOTHING = object()


def outbox_due(now) -> Q:
    """Items whose next attempt is due at ``now`` (with ``Outbox.pending``: the ones a claim may take)."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def _claim_locked(outbox: Outbox, item_id: str):
    """Lock and claim a pending, due item (inside a transaction); (item, payload, changed fields) or None."""
    now = timezone.now()
    item = (
        outbox.queryset()
        .select_for_update(skip_locked=True, of=("self",))
        .filter(outbox.pending(), outbox_due(now), pk=item_id)
        .first()
    )
    if item is None:
        # Sent already, failed for good, due later, or being sent by another worker right now.
        return None
    item.attempts += 1
    item.claimed_at = now
    item.next_attempt_at = None
    payload, changed = outbox.begin(item)
    return item, payload, ["attempts", "claimed_at", "next_attempt_at", *changed]


@transaction.atomic
def _claim_recording(outbox: Outbox, item_id: str, *, record: bool = True):
    """Claim, and record the outcome too when the kind knows it before sending (and ``record``); (payload,
    recorded)."""
    claimed = _claim_locked(outbox, item_id)
    if claimed is None:
        return _NOTHING, False
    item, payload, changed = claimed
    result = outbox.outcome_before_send(payload) if record else None
    if result is not None:
        item.claimed_at = None
        changed += [name for name in outbox.succeeded(item, result) if name not in changed]
        outbox.announce(item)
    item.save(update_fields=changed)
    return payload, result is not None


def _claim_recorded(outbox: Outbox, item_id: str, payload) -> bool | None:
    """The one-statement claim of a kind that can (``Outbox.claim_recorded``); None when it cannot."""
    result = outbox.outcome_before_send(payload)
    return outbox.claim_recorded(item_id, payload, result) if result is not None else None


@transaction.atomic
def _succeeded(outbox: Outbox, item_id: str, result) -> str:
    item = outbox.model.objects.select_for_update().get(pk=item_id)
    item.claimed_at = None
    changed = outbox.succeeded(item, result)
    item.save(update_fields=["claimed_at", *changed])
    outbox.announce(item)
    return "sent"


@transaction.atomic
def _failed(outbox: Outbox, item_id: str, error: DeliveryError) -> str:
    return _failed_locked(outbox, outbox.model.objects.select_for_update().get(pk=item_id), error)


def _failed_locked(outbox: Outbox, item, error: DeliveryError) -> str:
    """Record a failed attempt of an item whose row the caller's transaction holds locked."""
    item.claimed_at = None
    policy = outbox.policy()
    if error.permanent or policy.exhausted(item.attempts):
        changed = outbox.give_up(item, error)
        outcome = "failed"
    else:
        item.next_attempt_at = timezone.now() + policy.delay(item.attempts)
        changed = ["next_attempt_at", *outbox.retry_later(item, error)]
        outbox_enqueue(outbox, item.pk, run_after=item.next_attempt_at)
        outcome = "retrying"
    item.save(update_fields=["claimed_at", *changed])
    logger.warning(
        "Outbox %s: attempt %d for %s failed (code %s), %s",
        outbox.name,
        item.attempts,
        item.pk,
        error.code or "-",
        outcome,
    )
    outbox.announce(item)
    return outcome


def outbox_attempt_batch(*, outbox: Outbox, item_id: str, limit: int | None = None) -> str:
    """``outbox_attempt`` for the item and up to ``limit - 1`` other due items whose tasks are waiting,
    then for the next batches of due items while there are some, for up to ``BATCH_DRAIN_SECONDS``.

    Each batch: one claim transaction, its sends outside any transaction one after the other,
    one transaction for every outcome. On PostgreSQL, outside a caller's transaction, a batch's
    sends run in this worker's sender process (``_ProcessSender``; the sender thread while it
    starts) while this thread claims the next batch and records the last one's outcomes, so the
    sends, the database's round trips and this process's Python overlap; one batch is sent at a
    time, over the same keep-alive connection; the payloads (``Outbox.begin_rows``) are pickled.
    Returns the counts ("sent 19, retrying 1").
    """
    limit = limit or outbox.batch_size()
    claimed = _claim_batch(outbox, item_id, limit)
    if not claimed:
        return "skipped"
    counts: dict[str, int] = {}
    sender = _ProcessSender() if _may_overlap() else _InlineSender()
    sending = sender.submit(outbox, claimed)
    drain_until = time.monotonic() + BATCH_DRAIN_SECONDS  # from here: a sender process's start is not counted
    while True:
        following = _claim_batch(outbox, None, limit) if time.monotonic() < drain_until else []
        outcomes, untried, error = sending.result()
        if following and error is None and not untried:
            sending = sender.submit(outbox, following)
        else:
            # Out of time, or an error that is not a DeliveryError: the drain ends, the claimed
            # batch goes back in line untried.
            untried += [pk for pk, _ in following]
            following = []
        for outcome, count in _record_batch(outbox, outcomes, untried).items():
            counts[outcome] = counts.get(outcome, 0) + count
        if error is not None:
            raise error
        if not following:
            return ", ".join(f"{outcome} {count}" for outcome, count in counts.items())


def _may_overlap() -> bool:
    """Send on the sender thread? Only where its own connection sees what this one committed (not inside
    a caller's transaction: a test's, an ``atomic`` block) and where two connections do not lock each other
    out (PostgreSQL, not SQLite's single writer): a transport that remembers its progress writes from there."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _send_batch(outbox: Outbox, claimed: list[tuple[str, Any]]):
    """Send a claimed batch one item after the other; ``(outcomes, untried, error)``.

    ``error`` is an exception that is not a DeliveryError: the item being sent when it was raised
    is in neither list and stays claimed, for the sweep to resume as after a single attempt."""
    outcomes: list[tuple[str, Any]] = []
    stop_after = time.monotonic() + BATCH_SEND_SECONDS
    for index, (pk, payload) in enumerate(claimed):
        if outcomes and time.monotonic() > stop_after:
            return outcomes, [pk for pk, _ in claimed[index:]], None
        try:
            outcomes.append((pk, outbox.send(payload)))
        except DeliveryError as error:
            outcomes.append((pk, error))
        except Exception as error:  # noqa: BLE001 (raised again by the task, once what went out is recorded)
            return outcomes, [pk for pk, _ in claimed[index + 1 :]], error
    return outcomes, [], None


class _InlineSender:
    """The batch sent right here, when it is submitted."""

    def submit(self, outbox: Outbox, claimed: list[tuple[str, Any]]) -> Future:
        done: Future = Future()
        done.set_result(_send_batch(outbox, claimed))
        return done


class _Sender:
    """The process's sender thread: one, so a worker keeps one connection to each receiver (the
    webhook transport's session is per thread) and sends one batch at a time. Used while the sender
    process (``_ProcessSender``) starts, and where it cannot."""

    _pool: ClassVar[ThreadPoolExecutor | None] = None
    _pool_lock = threading.Lock()

    def submit(self, outbox: Outbox, claimed: list[tuple[str, Any]]) -> Future:
        with self._pool_lock:
            if _Sender._pool is None:
                _Sender._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-sender")
        return _Sender._pool.submit(self._send, outbox, claimed)

    @staticmethod
    def _send(outbox: Outbox, claimed: list[tuple[str, Any]]):
        try:
            return _send_batch(outbox, claimed)
        finally:
            # A transport that remembered its progress opened this thread's own connection: not kept open.
            connections.close_all()


class _ProcessSender:
    """The worker's sender process: its batches sent by a child process of its own, so the sends
    (the HTTP client's Python) and this process's claims and records (the ORM's, psycopg's) no
    longer take turns on one interpreter lock.

    One child per worker process, started (``spawn``: a fresh interpreter, Django set up from the
    worker's own settings and databases) at the first batch, which waits for it; if it does not come
    up within ``SENDER_START_SECONDS`` that batch goes to the sender thread. It sends one batch at a
    time over its one keep-alive connection to each receiver, as the thread did. A batch's payloads
    (the documents and the agency's secrets) reach it over the pipe between the two processes, never
    written anywhere. It dies with the worker (``PR_SET_PDEATHSIG``; elsewhere when it finds its
    parent gone): a worker killed mid-batch leaves no send going on behind it, and the batch's
    unrecorded deliveries are retried as before. A child that died answers nothing: the batch stays
    claimed for the sweep and the next batch starts another child.
    """

    _child: ClassVar[Any] = None
    _pipe: ClassVar[Any] = None
    _ready: ClassVar[bool] = False
    _lock = threading.Lock()

    def submit(self, outbox: Outbox, claimed: list[tuple[str, Any]]) -> Future:
        with self._lock:
            if not self._started():
                return _Sender().submit(outbox, claimed)
            _ProcessSender._pipe.send((outbox.name, claimed))
        return _Reply(_ProcessSender._pipe)

    @classmethod
    def _started(cls) -> bool:
        if cls._child is not None and not cls._child.is_alive():
            cls._child, cls._pipe, cls._ready = None, None, False
        if cls._child is None:
            context = multiprocessing.get_context("spawn")
            cls._pipe, theirs = context.Pipe()
            cls._child = context.Process(
                target=sender_main,
                args=(theirs, os.getpid(), settings.DATABASES, f"{__name__}:sender_serve"),
                name="outbox-sender",
                daemon=True,
            )
            cls._child.start()
            theirs.close()
        if not cls._ready:
            try:
                # Once per worker: the child sets Django up (a second or two). A child that does not come
                # up leaves the batch to the sender thread, and the next batch tries again.
                cls._ready = cls._pipe.poll(SENDER_START_SECONDS) and cls._pipe.recv() == "ready"
            except (EOFError, OSError):
                cls._ready = False
            if not cls._ready:
                cls._child.kill()
                cls._child, cls._pipe = None, None
        return cls._ready


class _Reply:
    """The child's answer to one batch, as ``Future.result()`` gives it."""

    def __init__(self, pipe):
        self._pipe = pipe

    def result(self):
        try:
            return self._pipe.recv()
        except (EOFError, OSError):
            # The sender process died mid-batch: nothing of it is known, all of it stays claimed (the sweep
            # resumes it); the batch claimed meanwhile goes back in line and the task fails.
            return [], [], RuntimeError("The outbox's sender process stopped in the middle of a batch.")


def sender_serve(pipe, parent: int) -> None:
    """The sender process's loop (``helpline.sender``): batches in, ``_send_batch`` answers out, until the
    worker is gone."""
    pipe.send("ready")
    while True:
        while not pipe.poll(1.0):
            if os.getppid() != parent:
                return
        try:
            name, claimed = pipe.recv()
        except EOFError:
            return
        try:
            outcomes, untried, error = _send_batch(outbox_get(name), claimed)
        finally:
            connections.close_all()
        if error is not None:
            # Raised again by the worker's task; its text stays in this process (it may not pickle).
            error = RuntimeError(f"{type(error).__name__} in the outbox's sender process")
        pipe.send((outcomes, untried, error))


@transaction.atomic
def _claim_batch(outbox: Outbox, item_id: str | None, limit: int) -> list[tuple[str, Any]]:
    """Claim the item (None: none in particular) and due siblings with waiting tasks, ``limit`` in all; close
    those tasks. Returns ``(pk, payload)`` in order.

    Set-based: one query locks the waiting tasks, one statement claims the items (locked, counted,
    marked in flight by ``Outbox.claimed``) and closes their tasks, and the kind reads what the sends
    need as plain rows (``Outbox.begin_rows``): no model instance per item."""
    now = timezone.now()
    waiting = DBTaskResult.objects.ready().filter(
        task_path=outbox_deliver.module_path, args_kwargs__args__0=outbox.name
    )
    if item_id is not None:
        waiting = waiting.exclude(args_kwargs__args__1=str(item_id))
    waiting = list(
        waiting.select_for_update(skip_locked=True).values_list("id", "args_kwargs")[
            : max(limit - (item_id is not None), 0)
        ]
    )
    task_of = {args_kwargs["args"][1]: task_id for task_id, args_kwargs in waiting}
    wanted = ([str(item_id)] if item_id is not None else []) + list(task_of)
    if not wanted:
        return []
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    locked = (
        outbox.model.objects.filter(outbox.pending(), due, pk__in=wanted)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)
    )
    changes = {"claimed_at": now, "next_attempt_at": None, **outbox.claimed()}
    if connection.vendor == "postgresql":
        found = _claim_rows(outbox, locked, changes, [task_of[pk] for pk in wanted if pk in task_of], now)
    else:
        # One writer (SQLite): nothing to skip, the rows read here are the rows claimed.
        found = {str(pk) for pk in locked}
        outbox.model.objects.filter(pk__in=found).update(attempts=F("attempts") + 1, **changes)
        closed = [task_of[pk] for pk in found if pk in task_of]
        if closed:
            DBTaskResult.objects.filter(id__in=closed).update(**_batched(now))
    ids = [pk for pk in wanted if pk in found]
    if not ids:
        return []
    return list(zip(ids, outbox.begin_rows(ids), strict=True))


def _batched(now) -> dict:
    # Their items are claimed with the batch: the tasks would find nothing to do. Closed, not deleted,
    # so the task list still shows every task that was queued and what became of it.
    return {"status": TaskResultStatus.SUCCESSFUL, "started_at": now, "finished_at": now, "return_value": "batched"}


def _claim_rows(outbox: Outbox, locked: QuerySet, changes: dict, tasks: list, now) -> set[str]:
    """PostgreSQL: the items ``locked`` selects claimed (``changes``, one more attempt) and those of ``tasks``
    whose item was claimed closed, in one statement; the claimed items' ids."""
    opts = outbox.model._meta
    quote = connection.ops.quote_name
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    sets, params = [f"{quote(opts.get_field('attempts').column)} = {quote(opts.get_field('attempts').column)} + 1"], []
    for name, value in changes.items():
        field = opts.get_field(name)
        sets.append(f"{quote(field.column)} = %s::{field.db_type(connection)}")
        params.append(field.get_db_prep_save(value, connection))
    lock_sql, lock_params = locked.query.get_compiler(connection=connection).as_sql()
    task_opts = DBTaskResult._meta
    task_table = quote(task_opts.db_table)
    closing, closing_params = [], []
    for name, value in _batched(now).items():
        field = task_opts.get_field(name)
        closing.append(f"{quote(field.column)} = %s::{field.db_type(connection)}")
        closing_params.append(field.get_db_prep_save(value, connection))
    sql = (
        f"WITH claimed AS (UPDATE {table} SET {', '.join(sets)} WHERE {pk} IN ({lock_sql}) RETURNING {pk}), "  # noqa: S608
        f"closed AS (UPDATE {task_table} SET {', '.join(closing)} "
        f"WHERE {quote(task_opts.pk.column)} = ANY(%s) "
        f"AND ({quote(task_opts.get_field('args_kwargs').column)} -> 'args' ->> 1) "
        f"IN (SELECT {pk}::text FROM claimed)) "
        f"SELECT {pk} FROM claimed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *lock_params, *closing_params, list(tasks)])
        return {str(row[0]) for row in cursor.fetchall()}


@transaction.atomic
def _record_batch(outbox: Outbox, outcomes: list[tuple[str, Any]], untried: list[str]) -> dict[str, int]:
    """Every outcome of a batch in one transaction; the untried items pending again, their tasks queued.

    The successes set-based (``Outbox.succeeded_rows``: plain ids and results, no instance); a
    failure or an untried item (the rare cases) one instance each, as a single attempt records it."""
    counts: dict[str, int] = {}
    sent = [(pk, result) for pk, result in outcomes if not isinstance(result, DeliveryError)]
    if sent:
        outbox.succeeded_rows(sent)
        counts["sent"] = len(sent)
    failed = {pk: result for pk, result in outcomes if isinstance(result, DeliveryError)}
    # Locked in one order (by id), so two transactions locking several rows never deadlock.
    items = {
        str(item.pk): item
        for item in outbox.model.objects.select_for_update().filter(pk__in=[*failed, *untried]).order_by("pk")
    }
    for pk, error in failed.items():
        outcome = _failed_locked(outbox, items[pk], error)
        counts[outcome] = counts.get(outcome, 0) + 1
    if untried:
        now = timezone.now()
        for pk in untried:
            item = items[pk]
            item.attempts -= 1  # counted at the claim, never tried
            item.claimed_at = None
            item.next_attempt_at = now
            for name, value in outbox.released().items():
                setattr(item, name, value)
        rows_update([items[pk] for pk in untried], ["attempts", "claimed_at", "next_attempt_at", *outbox.released()])
        for pk in untried:
            outbox_enqueue(outbox, pk)
        counts["put back"] = len(untried)
    return counts


@transaction.atomic
def outbox_sweep(outbox: Outbox, *, stalled_after: timedelta | None = None) -> dict:
    """Recover what a crash left behind: abandoned claims go back in line, lost tasks are enqueued again.

    Safe to run on several processes at once (rows another sweep holds are skipped)
    and as often as wanted. Returns the counts, for the log and the tests.
    """
    now = timezone.now()
    stalled_after = outbox.stall_after if stalled_after is None else stalled_after
    stalled = list(
        outbox.model.objects.select_for_update(skip_locked=True)
        .filter(outbox.in_flight(), claimed_at__lte=now - stalled_after)
        .values_list("pk", flat=True)
    )
    lost = list(
        outbox.model.objects.select_for_update(skip_locked=True)
        .filter(outbox.pending(), next_attempt_at__lte=now - LOST_TASK_GRACE)
        .values_list("pk", flat=True)
    )
    if stalled:
        outbox.model.objects.filter(pk__in=stalled).update(**outbox.released(), claimed_at=None, next_attempt_at=now)
    if lost:
        outbox.model.objects.filter(pk__in=lost).update(next_attempt_at=now)
    for item_id in (*stalled, *lost):
        outbox_enqueue(outbox, item_id)
    if stalled or lost:
        logger.warning("Outbox %s: %d abandoned and %d lost item(s) queued again", outbox.name, len(stalled), len(lost))
    return {"stalled": len(stalled), "lost": len(lost)}


def outbox_overdue_deliver(*, now=None, limit: int = OVERDUE_LIMIT) -> dict[str, int]:
    """The fallback of items delivered straight after their commit, which have no task (the periodic job).

    One still waiting ``HELPLINE_IMMEDIATE_DELIVERY_GRACE_SECONDS`` after it was due was left by a process
    that died between its commit and its delivery: it is attempted here, oldest first, as a worker would
    (the claim makes a race with a late immediate attempt or a retry's task harmless). Returns the
    outcomes per kind.
    """
    overdue_before = (now or timezone.now()) - timedelta(seconds=settings.HELPLINE_IMMEDIATE_DELIVERY_GRACE_SECONDS)
    outcomes = {}
    for outbox in outboxes_registered():
        untasked = outbox.untasked()
        if untasked is None:
            continue
        ids = outbox.model.objects.filter(outbox.pending(), untasked, next_attempt_at__lte=overdue_before)
        for item_id in ids.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]:
            outcome = outbox_attempt(outbox=outbox, item_id=str(item_id))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if outcomes:
        logger.warning("Outbox: overdue items never delivered at once, attempted now: %s", outcomes)
    return outcomes


def outboxes_sweep(*, stalled_after: timedelta | None = None) -> dict[str, dict]:
    """Sweep every registered outbox (the periodic job)."""
    return {outbox.name: outbox_sweep(outbox, stalled_after=stalled_after) for outbox in outboxes_registered()}
