"""Notifications through the channel layer, sent only after the transaction commits.

Events carry identifiers, never content: a consumer that receives one reads
the record from the database for its own user. The layer may drop events, so
nothing may depend on one arriving; a reconnecting console reloads its state.
"""

import asyncio
import logging
import os

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def line_group(line_id) -> str:
    return f"line-{line_id}"


def contact_group(contact_id) -> str:
    return f"contact-{contact_id}"


def staff_group(staff_id) -> str:
    return f"staff-{staff_id}"


def broadcast_after_commit(group: str, event: dict) -> None:
    def send():
        loop = _server_loop()
        if loop is None:
            # A command, a task or a test: no server loop to hand over to, so wait for it.
            try:
                async_to_sync(get_channel_layer().group_send)(group, event)
            except Exception:  # noqa: BLE001 - a lost notification must never undo a committed write
                _log_failure(group, event)
            return
        # Inside the ASGI server, a sync view runs on the process's one sync thread; waiting
        # for Redis there would hold up every other sync request. Hand the send to the loop.
        future = asyncio.run_coroutine_threadsafe(get_channel_layer().group_send(group, event), loop)
        future.add_done_callback(lambda done: done.exception() and _log_failure(group, event, done.exception()))

    transaction.on_commit(send)


def _server_loop():
    """The event loop that called into this sync thread, when there is one and it still runs."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    same_process = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid()
    return loop if loop is not None and same_process and loop.is_running() else None


def _log_failure(group: str, event: dict, error: BaseException | None = None) -> None:
    # The record is committed; a dropped notification is recovered on reconnect.
    logger.warning("Could not notify %s of %s", group, event.get("type"), exc_info=error or True)
