from django.core.management.base import BaseCommand

from cases.services.retention import BATCH_SIZE, retention_run


class Command(BaseCommand):
    help = (
        "Crypto-shred closed cases and unlinked transcripts past their line's retention period. "
        "Safe to run again, and at the same time as another run (rows are claimed with SKIP LOCKED)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Records per transaction.")

    def handle(self, *args, **options):
        def progress(kind: str, done: int) -> None:
            self.stdout.write(f"  {kind}: {done} destroyed so far")

        result = retention_run(batch_size=max(1, options["batch_size"]), progress=progress)
        self.stdout.write(
            f"Retention run done: {result.cases} closed cases (and {result.case_contacts} of their contacts), "
            f"{result.transcripts} unlinked transcripts destroyed."
        )
