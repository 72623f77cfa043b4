"""``manage.py taxonomy_import FILE [--activate]``: import a taxonomy version from a YAML or JSON file."""

from django.core.management.base import BaseCommand, CommandError

from cases.errors import CaseError
from cases.services.taxonomy import taxonomy_document_load, taxonomy_import


class Command(BaseCommand):
    help = "Import a taxonomy version (validated against cases/taxonomy/taxonomy.schema.json); --activate publishes it."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A taxonomy file, e.g. cases/taxonomy/chi-2026.1.yaml")
        parser.add_argument("--activate", action="store_true", help="Publish it: new wrap-ups use this version")

    def handle(self, *args, file, activate, **options):
        try:
            version = taxonomy_import(actor=None, document=taxonomy_document_load(file), activate=activate)
        except CaseError as error:
            raise CommandError(str(error)) from None
        count = version.categories.count()
        state = "active" if version.active else "imported, not active"
        self.stdout.write(f"Taxonomy {version.code}: {count} categories ({state}).")
