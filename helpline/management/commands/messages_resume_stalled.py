from datetime import timedelta

from django.core.management.base import BaseCommand

from helpline.messaging import messages_resume_stalled


class Command(BaseCommand):
    help = "Queue again outbound messages a crashed worker left half-sent. Run it every few minutes (cron)."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=5, help="How long 'sending' counts as stalled (default 5).")

    def handle(self, *args, **options):
        count = messages_resume_stalled(older_than=timedelta(minutes=options["minutes"]))
        self.stdout.write(f"{count} message(s) queued again.")
