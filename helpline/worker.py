"""The embedded mode's background work, on two threads of the web process.

- the task worker: django-tasks-db's worker loop (outbox deliveries and any other task);
- the periodic runner: ``helpline.periodic.periodic_run_due`` every few seconds.

Production runs the same two loops as processes instead: ``manage.py db_worker``
and ``manage.py periodic_worker``.
"""

import logging
import os
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker

from helpline.outbox import outboxes_sweep
from helpline.periodic import periodic_run_due

logger = logging.getLogger(__name__)
_started = threading.Event()

PERIODIC_TICK_SECONDS = 5.0


def start_inprocess_worker_if_configured() -> None:
    if not settings.TASKS_INPROCESS_WORKER or _started.is_set():
        return
    worker = task_worker(worker_id=f"inprocess-{os.getpid()}", interval=0.5)
    threading.Thread(target=_run_tasks_forever, args=(worker,), name="task-worker", daemon=True).start()
    threading.Thread(target=periodic_loop, name="periodic-runner", daemon=True).start()
    _started.set()
    logger.info("In-process task worker and periodic runner started")


def task_worker(*, worker_id: str, interval: float, until_empty: bool = False) -> Worker:
    """django-tasks-db's worker loop on every queue of the default backend (``until_empty``: ``--batch``)."""
    return Worker(
        queue_names=["*"],
        interval=interval,
        batch=until_empty,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def _run_tasks_forever(worker) -> None:
    # The only worker of an embedded install: whatever is claimed now was left by its previous run.
    try:
        outboxes_sweep(stalled_after=timedelta(0))
    except Exception:
        logger.exception("Could not look for interrupted deliveries")
    while True:
        # A crash in the loop (for example the database briefly locked) must not end background work.
        try:
            worker.run()
        except Exception:
            logger.exception("In-process task worker crashed; restarting")
            time.sleep(1)


def periodic_loop(*, tick: float = PERIODIC_TICK_SECONDS, stop: threading.Event | None = None) -> None:
    """Run due periodic jobs every ``tick`` seconds until ``stop`` is set (forever by default)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            periodic_run_due()
        except Exception:
            logger.exception("Periodic runner failed; trying again")
        finally:
            close_old_connections()
        stop.wait(tick)
