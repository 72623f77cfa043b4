"""Put back in line what a crashed worker left half-sent (also a periodic job; this runs it now)."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from helpline.outbox import outboxes_sweep


class Command(BaseCommand):
    help = (
        "Queue again every outbox item (outbound message, referral delivery) that a worker claimed and never "
        "finished, and every item whose delivery task was lost. Delivery is at least once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes", type=float, default=None, help="Claimed longer ago than this counts as abandoned."
        )

    def handle(self, *args, minutes, **options):
        stalled_after = timedelta(minutes=minutes) if minutes is not None else None
        for name, counts in outboxes_sweep(stalled_after=stalled_after).items():
            self.stdout.write(f"{name}: {counts['stalled']} abandoned, {counts['lost']} lost, queued again")
