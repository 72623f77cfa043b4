from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from helpline.models import Helpline
from referrals.sop.document import SopInvalid
from referrals.sop.services import sop_import


class Command(BaseCommand):
    help = "Import an SOP document (YAML) as a new version of a line; --activate makes it the active one."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the YAML file ('-' reads standard input)")
        parser.add_argument("--line", required=True, help="the line's slug")
        parser.add_argument("--activate", action="store_true", help="activate the new version at once")
        parser.add_argument("--reason", default="", help="why, for the audit trail")

    def handle(self, *args, file, line, activate, reason, **options):
        helpline = Helpline.objects.filter(slug=line).first()
        if helpline is None:
            raise CommandError(f"No line with the slug {line!r}.")
        try:
            text = self.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc.__class__.__name__}") from None
        try:
            version = sop_import(actor=None, line=helpline, text=text, activate=activate, reason=reason)
        except SopInvalid as exc:
            lines = "\n".join(f"  {file}: {error}" for error in exc.errors)
            raise CommandError(f"The SOP has {len(exc.errors)} mistake(s):\n{lines}") from None
        state = "active" if activate else "a draft"
        self.stdout.write(f"Imported {version.name} as version {version.number} of {helpline.slug}, {state}.")
