from django.core.management.base import BaseCommand

from referrals.sop.schema import sop_schema_json


class Command(BaseCommand):
    help = "Print the JSON Schema of SOP documents (published as docs/sop.schema.json)."

    def handle(self, *args, **options):
        self.stdout.write(sop_schema_json(), ending="")
