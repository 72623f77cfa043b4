"""Link committed audit events into the chain now, instead of waiting for the periodic job."""

from django.core.management.base import BaseCommand

from helpline.audit.linker import audit_link_pending


class Command(BaseCommand):
    help = "Give every committed audit event that has none its link in the keyed chain (the periodic job does it too)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Look at the whole table, not only recent events (after an upgrade, or an event committed very late).",
        )

    def handle(self, *args, everything, **options):
        linked = audit_link_pending(everything=everything)
        self.stdout.write(f"{linked} events linked")
