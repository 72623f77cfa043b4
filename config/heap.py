"""The collector's view of a server process's heap, set once start-up is over.

CPython's full collection walks every tracked object. After ``django.setup()`` and the
URLconf, a web process holds some 165,000 of them (modules, models, translations,
phone-number metadata) that live as long as the process, and one full collection of
them took 200–260 ms on the benchmark machine: a pause of every request on that process
(measured: docs/PERFORMANCE.md, inbound webhooks, fifth pass). ``gc.freeze()`` moves
them to a generation the collector never walks; what requests allocate is collected as
before.
"""

import gc


def heap_freeze() -> None:
    """Collect start-up's garbage, then keep everything still alive out of later collections."""
    gc.collect()
    gc.freeze()
