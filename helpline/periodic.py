"""Periodic jobs: work that runs every so often (recover the outbox, clear sessions, retention, escalations).

Apps register their jobs from AppConfig.ready() with ``periodic_register``.
``periodic_run_due`` runs whichever are due; the embedded worker calls it every
few seconds, production runs ``manage.py periodic_worker`` (one or more, on any
machine). Each run is claimed with a compare-and-set on the job's row, so a job
runs once per interval however many runners there are, and a runner that dies
mid-job only delays that job until its next interval.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from helpline.models import PeriodicJobState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[], object]


_jobs: dict[str, PeriodicJob] = {}


def periodic_register(*, name: str, every: timedelta, run: Callable[[], object]) -> None:
    _jobs[name] = PeriodicJob(name=name, every=every, run=run)


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def periodic_run_due(*, now=None) -> list[str]:
    """Run every registered job that is due and not claimed by another runner; return the names run."""
    ran = []
    for job in periodic_jobs():
        if _claim(job, now or timezone.now()):
            try:
                job.run()
            except Exception:
                logger.exception("Periodic job %s failed; it runs again at its next interval", job.name)
            ran.append(job.name)
    return ran


def _claim(job: PeriodicJob, now) -> bool:
    try:
        with transaction.atomic():
            PeriodicJobState.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    except IntegrityError:
        pass  # another runner created it a moment ago
    claimed = PeriodicJobState.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + job.every, last_started_at=now
    )
    return claimed == 1
