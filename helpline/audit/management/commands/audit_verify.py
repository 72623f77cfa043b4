"""Check the audit trail's hash chain end to end; exit non-zero at the first broken link.

Meant for cron or a systemd timer: one line on success, one line on failure.
"""

from django.core.management.base import BaseCommand, CommandError

from helpline.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and name the first event that breaks it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect",
            metavar="HASH",
            default="",
            help="A hash from an earlier run's summary that the chain must still contain.",
        )
        parser.add_argument("--chunk-size", type=int, default=5000, help="Events read per query (default 5000).")

    def handle(self, *args, expect, chunk_size, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        report = audit_chain_verify(chunk_size=chunk_size, expect_hash=expect.strip().lower())
        if not report.intact:
            where = f"event {report.broken_id} " if report.broken_id is not None else ""
            raise CommandError(
                f"Audit chain BROKEN: {where}{report.problem} ({report.checked} events before it verified)",
                returncode=2,
            )
        head = f"; last event {report.last_id}, hash {report.last_hash}" if report.last_id is not None else ""
        self.stdout.write(f"{report.checked} events, chain intact{head}")
