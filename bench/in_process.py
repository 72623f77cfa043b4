"""Django set up inside a benchmark's own process, on the test settings and a throwaway key set.

Call it before importing anything that touches models: the benchmark must not create or read
``var/keys.json``, and it runs no in-process task worker (the benchmark drives its own).
"""

import json
import os


def django_in_process(**environment_defaults: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ.setdefault("HELPLINE_INPROCESS_WORKER", "false")
    for name, value in environment_defaults.items():
        os.environ.setdefault(name, value)
    if "HELPLINE_KEYS" not in os.environ:
        from helpline.vault.keys import keyset_generate

        os.environ["HELPLINE_KEYS"] = json.dumps(keyset_generate())

    import django

    django.setup()
