"""Run the periodic jobs (helpline.periodic) in a loop, or once. Several may run at once on any machines."""

from django.core.management.base import BaseCommand

from helpline.periodic import periodic_jobs, periodic_run_due
from helpline.worker import PERIODIC_TICK_SECONDS, periodic_loop


class Command(BaseCommand):
    help = (
        "Run the platform's periodic jobs (outbox recovery, session clean-up, retention, escalations) as they "
        "fall due. Each run of a job is claimed in the database, so any number of these processes can run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run what is due now, then exit (for cron).")
        parser.add_argument("--tick", type=float, default=PERIODIC_TICK_SECONDS, help="Seconds between checks.")

    def handle(self, *args, once, tick, **options):
        if once:
            ran = periodic_run_due()
            self.stdout.write(f"Ran: {', '.join(ran) or 'nothing was due'}")
            return
        names = ", ".join(f"{job.name} (every {job.every})" for job in periodic_jobs())
        self.stdout.write(f"Periodic jobs: {names}")
        periodic_loop(tick=tick)
