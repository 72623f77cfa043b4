from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from helpline.models import Helpline
from referrals.sop.models import SopVersion
from referrals.sop.selectors import sop_active_version, sop_export_text


class Command(BaseCommand):
    help = "Print a line's SOP as YAML: the active version, or --version N."

    def add_arguments(self, parser):
        parser.add_argument("--line", required=True, help="the line's slug")
        parser.add_argument("--number", type=int, help="the version number (default: the active one)")
        parser.add_argument("--output", help="write to this file instead of standard output")

    def handle(self, *args, line, number, output, **options):
        helpline = Helpline.objects.filter(slug=line).first()
        if helpline is None:
            raise CommandError(f"No line with the slug {line!r}.")
        if number is None:
            found = sop_active_version(helpline)
            if found is None:
                raise CommandError(f"The line {line!r} has no active SOP; name one with --number.")
        else:
            found = SopVersion.objects.filter(line=helpline, number=number).first()
            if found is None:
                raise CommandError(f"The line {line!r} has no SOP version {number}.")
        text = sop_export_text(version=found)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote version {found.number} of {line} to {output}.")
        else:
            self.stdout.write(text, ending="")
