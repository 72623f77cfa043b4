"""Print new key material for operators: a KEK entry for a rotation, or a whole first key set."""

import json

from django.core.management.base import BaseCommand, CommandError

from helpline.vault.keys import kek_entry_generate, keyset_generate


class Command(BaseCommand):
    help = (
        "Print a new KEK entry as JSON, to put FIRST in the 'keks' list before running keys_rotate. "
        "With --keyset, print a complete new key set instead. The output is secret: keep it out of "
        "shell history, tickets and chat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--id", dest="kek_id", help="KEK id (default: k-<year>-<month>-<random>)")
        parser.add_argument("--keyset", action="store_true", help="Print a complete key set (first installation).")

    def handle(self, *args, kek_id=None, keyset=False, **options):
        try:
            entry = kek_entry_generate(kek_id=kek_id)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        document = {**keyset_generate(), "keks": [entry]} if keyset else entry
        # Printing key material is this command's purpose.
        self.stdout.write(json.dumps(document, indent=2))
