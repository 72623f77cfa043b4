"""The entry point of a worker's helper process (the outbox's sender: ``helpline.outbox._ProcessSender``).

Imported by a fresh interpreter before Django is set up, so it imports nothing of the platform: it
ties the process's life to the worker's, points Django at the worker's databases (test databases
included), sets Django up and hands over to ``serve``, named by the caller as "module:function"
(``helpline.outbox:sender_serve``), which gets the pipe and the worker's pid.
"""

import importlib
import os
import signal


def sender_main(pipe, parent: int, databases: dict, serve: str) -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: dies with the worker
    except (OSError, AttributeError):
        pass  # not Linux: ``serve`` watches the parent's pid instead
    if os.getppid() != parent:
        return
    import django
    from django.conf import settings

    if not settings.configured:
        settings.DATABASES = databases
    django.setup()
    from django.db import connections

    # The same databases as the worker even where the main module set Django up already on import.
    connections.close_all()
    for alias, values in databases.items():
        connections.settings.setdefault(alias, {}).update(values)

    module, function = serve.split(":")
    getattr(importlib.import_module(module), function)(pipe, parent)
