"""Check the audit trail's keyed chain end to end; exit non-zero at the first broken link.

Meant for cron or a systemd timer: one line on success, one line on failure.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from helpline.audit.selectors import UNLINKED_BOUND, audit_chain_verify, audit_expectation_parse


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed chain, check that no event waits too long for its link, "
        "and name the first event that breaks it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect",
            metavar="HASH[@POSITION]",
            default="",
            help="The newest link from an earlier --export, kept outside the database; the chain must still hold it.",
        )
        parser.add_argument(
            "--export",
            action="store_true",
            help="After verifying, print only the newest link as HASH@POSITION, for a copy held elsewhere.",
        )
        parser.add_argument(
            "--unlinked-bound",
            type=int,
            default=int(UNLINKED_BOUND.total_seconds()),
            metavar="SECONDS",
            help=f"How long a committed event may wait for its link (default {int(UNLINKED_BOUND.total_seconds())}).",
        )
        parser.add_argument("--chunk-size", type=int, default=5000, help="Links read per query (default 5000).")

    def handle(self, *args, expect, export, unlinked_bound, chunk_size, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        if unlinked_bound < 1:
            raise CommandError("--unlinked-bound must be at least 1 second")
        expect_hash, expect_position = "", None
        if expect:
            try:
                expect_hash, expect_position = audit_expectation_parse(expect)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        report = audit_chain_verify(
            chunk_size=chunk_size,
            expect_hash=expect_hash,
            expect_position=expect_position,
            unlinked_bound=timedelta(seconds=unlinked_bound),
        )
        if not report.intact:
            where = ""
            if report.broken_id is not None:
                where = f"event {report.broken_id} "
                if report.broken_position is not None:
                    where += f"at position {report.broken_position} "
            raise CommandError(
                f"Audit chain BROKEN: {where}{report.problem} ({report.checked} links before it verified)",
                returncode=2,
            )
        if export:
            self.stdout.write(report.export)
            return
        head = ""
        if report.last_position:
            head = f"; newest link {report.export} (event {report.last_event_id})"
        waiting = f"{report.unlinked} waiting for the linker"
        self.stdout.write(f"{report.checked} events linked, chain intact{head}; {waiting}")
