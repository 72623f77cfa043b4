"""Django for machine endpoints (the Twilio webhooks, later other integrations' callbacks).

A webhook has no session, no user, no second factor, no page: the staff
middleware stack does nothing for it, and three of its middlewares are
sync-only, so under ASGI each request hopped loop → thread → loop → thread
through them (measured: 15.7 ms of server CPU per webhook against 5.3 ms for a
bare view). Requests under ``HELPLINE_MACHINE_PATH_PREFIXES`` go to a second
Django handler whose chain is ``HELPLINE_MACHINE_MIDDLEWARE`` (async-capable
only: security headers and host checks), so the sync view is entered once.
The URLconf and the views are the same; a view served here is public by
construction, so only views marked ``helpline.access.public`` may live there
(a test checks).
"""

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler


class MachineEndpointsHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        # BaseHandler builds the chain from settings.MIDDLEWARE; this runs once, at start-up,
        # before any request, so swapping the list for the build is safe.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.HELPLINE_MACHINE_MIDDLEWARE
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = full


def is_machine_path(path: str) -> bool:
    return path.startswith(tuple(settings.HELPLINE_MACHINE_PATH_PREFIXES))


def http_router(staff_app, machine_app):
    """The ASGI app for HTTP: machine paths to the slim handler, everything else to the full one."""

    async def route(scope, receive, send):
        app = machine_app if is_machine_path(scope.get("path", "")) else staff_app
        await app(scope, receive, send)

    return route
