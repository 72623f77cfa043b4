"""Re-wrap data keys under the newest KEK, so an old KEK can be retired."""

from django.core.management.base import BaseCommand, CommandError

from helpline.services.keys import keys_rotate


class Command(BaseCommand):
    help = (
        "Re-wrap every live data key that is not under the first KEK of the key set, in batches. "
        "Never decrypts field data; safe to interrupt, re-run, or run on several machines at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Data keys per transaction (default 500).")
        parser.add_argument("--max-batches", type=int, default=None, help="Stop after this many batches.")

    def handle(self, *args, batch_size, max_batches, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        result = keys_rotate(batch_size=batch_size, max_batches=max_batches)
        self.stdout.write(
            f"Re-wrapped {result.rewrapped} data keys under KEK {result.kek_id} in {result.batches} batches."
        )
        if result.remaining_by_kek:
            for kek_id, count in result.remaining_by_kek.items():
                self.stdout.write(f"Still under KEK {kek_id}: {count}")
        else:
            self.stdout.write("No live data key remains under another KEK: older KEKs can be removed.")
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} data keys could not be unwrapped (KEK missing or wrong), for example "
                f"{', '.join(result.failed[:5])}; they were left unchanged."
            )
