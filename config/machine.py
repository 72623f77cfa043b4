"""The two Django handlers behind HTTP: staff pages and machine endpoints, each entering its thread once.

Django's ``ASGIHandler`` runs the middleware chain on the event loop and hops to a
thread for every sync part: each ``MiddlewareMixin`` method (``process_request``,
``process_view``, ``process_response``) of an async chain, each sync-only middleware
(with an ``async_to_sync`` back below it), then the view. Every view here is sync, so
``OneThreadASGIHandler`` builds the chain in sync mode and runs the chain and the view
together in one ``sync_to_async`` call: one hop per request whatever the middlewares
are (measured in docs/PERFORMANCE.md). ``config.asgi`` serves staff pages with it.

A webhook has no session, no user, no second factor, no page: the staff
middleware stack does nothing for it (measured: 15.7 ms of server CPU per
webhook against 5.3 ms for a bare view). Requests under
``HELPLINE_MACHINE_PATH_PREFIXES`` go to ``MachineEndpointsHandler``, whose chain is
``HELPLINE_MACHINE_MIDDLEWARE`` (security headers and host checks only). The URLconf and
the views are the same; a view served there is public by construction, so only views
marked ``helpline.access.public`` may live there (a test checks).
"""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler


class OneThreadASGIHandler(ASGIHandler):
    """``ASGIHandler`` whose middleware chain and (sync) view run in one worker thread per request."""

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        # The request's own thread (ThreadSensitiveContext in ASGIHandler.__call__), as for a sync view.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


class MachineEndpointsHandler(OneThreadASGIHandler):
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
