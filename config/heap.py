"""The collector's view of a server process's heap, set once start-up is over.

CPython's full collection walks every tracked object. After ``django.setup()``, the
URLconf and the views it imports, a web process holds some 185,000 of them (modules,
models, translations, phone-number metadata) that live as long as the process; under
load a full collection of them paused every request of the process for 300–600 ms on
the benchmark machine (measured: docs/PERFORMANCE.md, inbound webhooks, fifth pass).
``gc.freeze()`` moves them to a generation the collector never walks; what requests
allocate is collected as before.
"""

import gc
from importlib import import_module

from django.conf import settings


def heap_freeze() -> None:
    """Load the URLconf, collect start-up's garbage, then keep everything still alive out of later collections."""
    # Django imports the URLconf, and with it every view module, at the first request: here instead,
    # so that what it builds is frozen too (about 19,000 objects).
    import_module(settings.ROOT_URLCONF)
    gc.collect()
    gc.freeze()
