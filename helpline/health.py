"""The state of the parts the platform needs: database, channel layer, task worker."""

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max


def health_report() -> dict:
    checks = {
        "database": _check(_database),
        "channel_layer": _check(_channel_layer),
        "tasks": _check(_tasks),
    }
    status = "ok" if all(check["status"] == "ok" for check in checks.values()) else "error"
    return {"status": status, "checks": checks}


def _check(probe) -> dict:
    try:
        return {"status": "ok", **probe()}
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure
        # The class name only: driver messages can carry connection strings.
        return {"status": "error", "error": type(exc).__name__}


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _channel_layer() -> dict:
    layer = get_channel_layer()
    return async_to_sync(_channel_round_trip)(layer)


async def _channel_round_trip(layer) -> dict:
    import asyncio

    channel = await layer.new_channel("healthz.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned another message")
    return {"backend": type(layer).__name__}


def _tasks() -> dict:
    """The worker is stalled when a ready task has waited longer than the threshold."""
    ready = DBTaskResult.objects.ready()
    oldest = ready.order_by("enqueued_at").values_list("enqueued_at", "run_after").first()
    waited = 0.0
    if oldest:
        enqueued_at, run_after = oldest
        # A delayed task (a retry with backoff) starts waiting at its run_after;
        # django-tasks-db marks "no delay" with the largest date.
        since = enqueued_at if run_after == get_date_max() else max(enqueued_at, run_after)
        waited = max((timezone.now() - since).total_seconds(), 0.0)
    if waited > settings.TASKS_STALL_SECONDS:
        raise TaskWorkerStalled
    return {
        "ready": ready.count(),
        "oldest_ready_seconds": round(waited, 1),
        "inprocess_worker": settings.TASKS_INPROCESS_WORKER,
    }


class TaskWorkerStalled(Exception):
    pass
