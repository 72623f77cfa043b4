"""Notifications through the channel layer, sent only after the transaction commits.

Events carry identifiers, never content: a consumer that receives one reads
the record from the database for its own user. The layer may drop events, so
nothing may depend on one arriving; a reconnecting console reloads its state.

When the layer itself loses state (Redis restarted empty, or unreachable for a
while, so group memberships or events are gone), a socket that stayed open would
never hear of what it missed. Every server process therefore watches the layer
(``socket_watch``) and closes its sockets with ``CLOSE_LAYER_RESTART`` when that
happens; the pages reconnect, join their groups again and reload from the database.
"""

import asyncio
import logging
import os
import secrets
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync, async_to_sync
from channels.db import DatabaseSyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def line_group(line_id) -> str:
    return f"line-{line_id}"


def contact_group(contact_id) -> str:
    return f"contact-{contact_id}"


def staff_group(staff_id) -> str:
    return f"staff-{staff_id}"


def reply_event(*, contact_id, message_id) -> dict:
    """The one event that tells a conversation's group of a reply: the consoles refresh, the child's
    page shows it once it is handed over ("out": the child's socket reads it only for that)."""
    return {"type": "contact.message", "contact_id": str(contact_id), "message_id": str(message_id), "direction": "out"}


def broadcast_after_commit(group: str, event: dict) -> None:
    def send():
        loop = _server_loop()
        if loop is None:
            # A command, a task or a test: no server loop to hand over to, so wait for it.
            try:
                async_to_sync(_send_and_report)(get_channel_layer(), group, event)
            except Exception:  # noqa: BLE001 - a lost notification must never undo a committed write
                _log_failure(group, event)
            return
        # Inside the ASGI server, a sync view or a consumer's database call runs on a worker
        # thread; waiting for Redis there would hold it up. Hand the send to the loop.
        run_in_turn(
            loop,
            group,
            lambda: get_channel_layer().group_send(group, event),
            on_error=lambda error: _log_failure(group, event, error),
        )

    transaction.on_commit(send)


_turns: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


def run_in_turn(loop, key: str, make_coroutine, *, on_error) -> None:
    """From any thread: run ``make_coroutine()`` on ``loop`` once the earlier work under ``key`` is done.

    Work handed over for one group (one conversation) starts in the order it was
    handed over and never overtakes, so a conversation's events and deliveries
    keep their order while other conversations go ahead in parallel. Errors go to
    ``on_error``; they never stop the next in line.
    """

    def start():
        queue = _turns.setdefault(loop, {})
        previous = queue.get(key)

        async def in_turn():
            if previous is not None:
                await asyncio.wait([previous])
            try:
                await make_coroutine()
            except Exception as error:  # noqa: BLE001 - the committed write stands; the caller decides
                on_error(error)

        task = loop.create_task(in_turn())
        queue[key] = task
        task.add_done_callback(lambda done: queue.get(key) is done and queue.pop(key, None))

    loop.call_soon_threadsafe(start)


class LazyThreads:
    """A thread pool made on first use, sized by a setting read then (so tests and settings can change it)."""

    def __init__(self, size_setting: str, name_prefix: str):
        self.size_setting, self.name_prefix = size_setting, name_prefix
        self.executor: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(
                    max_workers=getattr(settings, self.size_setting), thread_name_prefix=self.name_prefix
                )
            return self.executor

    def take(self) -> ThreadPoolExecutor | None:
        """The pool, forgotten here (the next ``get`` makes a new one); None when none was made."""
        with self.lock:
            executor, self.executor = self.executor, None
            return executor


_database_threads = LazyThreads("HELPLINE_DATABASE_THREADS", "helpline-db")


def database_call(func):
    """``func`` (sync database work) as a coroutine function run on the consumers' own thread pool.

    Channels' ``database_sync_to_async`` runs every call of a process on one shared
    sync thread, so at a few hundred live conversations each socket's read waited
    behind everyone else's (measured: p99 1.9 s at 200). Here calls run in parallel
    on ``HELPLINE_DATABASE_THREADS`` threads, each borrowing a connection from the
    pool (sized for them in settings) and giving it back when the call ends. One
    consumer still awaits its own calls one at a time, so a conversation's order holds.
    """
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_database_executor())


def _database_executor() -> ThreadPoolExecutor:
    return _database_threads.get()


def database_threads_stop() -> None:
    """Close each database thread's connection and stop the threads (the test suite's end, a clean exit)."""
    executor = _database_threads.take()
    if executor is None:
        return
    from django.db import connections

    count = executor._max_workers
    barrier = threading.Barrier(count, timeout=30)

    def close_here():
        barrier.wait()  # one task per thread: none of them can take a second
        connections.close_all()

    for future in [executor.submit(close_here) for _ in range(count)]:
        future.result()
    executor.shutdown()


def server_loop():
    """The event loop of the ASGI server that called into this thread, or None (a command, a task, a test)."""
    return _server_loop()


def _server_loop():
    """The event loop that called into this sync thread, when there is one and it still runs."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    same_process = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid()
    return loop if loop is not None and same_process and loop.is_running() else None


def _log_failure(group: str, event: dict, error: BaseException | None = None) -> None:
    # The record is committed; a dropped notification is recovered on reconnect, which the
    # next epoch makes every page do (socket_watch).
    _layer_trouble.set()
    logger.warning("Could not notify %s of %s", group, event.get("type"), exc_info=error or True)


# --- Watching the layer: sockets reconnect when it lost state ------------------------------

# A close code pages treat as "reconnect at once": 1012, Service Restart (RFC 6455 registry).
CLOSE_LAYER_RESTART = 1012
EPOCH_KEY = "epoch"

# A notification of this process failed: the next epoch goes to Redis, so every process's sockets reconnect.
_layer_trouble = threading.Event()
_watched: "weakref.WeakSet" = weakref.WeakSet()
_watchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task]" = weakref.WeakKeyDictionary()


def socket_watch(consumer) -> None:
    """Register an open socket (its groups joined): if the channel layer loses state, it is closed.

    The first socket of a process starts that process's watcher on its event loop. It
    reads one key of the layer's Redis, the **epoch**, every ``HELPLINE_LAYER_WATCH_SECONDS``:

    - the key is gone (Redis restarted without persistence, flushed): every group
      membership went with it, so events would reach nobody;
    - Redis could not be reached: events were lost on the way;
    - the epoch changed: another process could not deliver a notification and wrote a new one.

    In each case every watched socket of the process is closed with ``CLOSE_LAYER_RESTART``;
    the console and the web chat reconnect by themselves, join their groups again and reload
    what they show from the database, which holds every message. An in-memory layer (one
    process, tests, embedded mode) has nothing to lose and is not watched.
    """
    layer = consumer.channel_layer
    if not hasattr(layer, "connection"):
        return
    _watched.add(consumer)
    loop = asyncio.get_running_loop()
    task = _watchers.get(loop)
    if task is None or task.done():
        _watchers[loop] = loop.create_task(_watch(layer))


def socket_unwatch(consumer) -> None:
    _watched.discard(consumer)


async def _watch(layer) -> None:
    known = None
    trouble = False
    while True:
        await asyncio.sleep(settings.HELPLINE_LAYER_WATCH_SECONDS)
        try:
            epochs = await layer_epochs(layer, renew=_layer_trouble.is_set())
        except Exception:  # noqa: BLE001 - unreachable: what was sent meanwhile is lost
            if not trouble:
                logger.warning("Channel layer unreachable; its sockets will reconnect when it is back")
            trouble = True
            continue
        _layer_trouble.clear()
        if trouble or (known is not None and epochs != known):
            logger.warning("Channel layer lost state; %d sockets of this process reconnect", len(_watched))
            await sockets_reconnect()
        known, trouble = epochs, False
        global _watch_checks
        _watch_checks += 1


_watch_checks = 0


def layer_watch_checks() -> int:
    """How many times this process's watchers have read the epoch (for tests and drills)."""
    return _watch_checks


async def layer_epochs(layer, *, renew: bool = False) -> list:
    """The epoch of each of the layer's Redis servers (created when missing; a new one when ``renew``)."""
    key = f"{layer.prefix}:{EPOCH_KEY}"
    epochs = []
    for index in range(layer.ring_size):
        connection = layer.connection(index)
        if renew:
            await connection.set(key, secrets.token_hex(8))
        elif await connection.get(key) is None:
            await connection.set(key, secrets.token_hex(8), nx=True)
        epochs.append(await connection.get(key))
    return epochs


async def sockets_reconnect() -> None:
    """Close every watched socket of this process so its page reconnects and reloads."""
    for consumer in list(_watched):
        _watched.discard(consumer)
        try:
            await consumer.close(code=CLOSE_LAYER_RESTART)
        except Exception:  # noqa: BLE001 - already gone
            logger.debug("Socket already closed")


async def _send_and_report(layer, group: str, event: dict) -> None:
    """``group_send``; after an earlier failure of this process (a worker), renew the epoch first."""
    await layer.group_send(group, event)
    if _layer_trouble.is_set() and hasattr(layer, "connection"):
        await layer_epochs(layer, renew=True)
        _layer_trouble.clear()
