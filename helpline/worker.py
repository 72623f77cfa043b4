"""The embedded mode's task worker: django-tasks-db's worker loop on a thread of the web process."""

import logging
import os
import threading

from django.conf import settings

logger = logging.getLogger(__name__)
_started = threading.Event()


def start_inprocess_worker_if_configured() -> None:
    if not settings.TASKS_INPROCESS_WORKER or _started.is_set():
        return
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0.5,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"inprocess-{os.getpid()}",
        excluded_queue_names=[],
    )
    threading.Thread(target=_run_forever, args=(worker,), name="task-worker", daemon=True).start()
    _started.set()
    logger.info("In-process task worker started")


def _run_forever(worker) -> None:
    # A crash in the loop (for example the database briefly locked) must not end background work.
    import time
    from datetime import timedelta

    from helpline.messaging import messages_resume_stalled

    # The previous run of this process may have died mid-delivery.
    try:
        messages_resume_stalled(older_than=timedelta(0))
    except Exception:
        logger.exception("Could not look for interrupted deliveries")
    while True:
        try:
            worker.run()
        except Exception:
            logger.exception("In-process task worker crashed; restarting")
            time.sleep(1)
