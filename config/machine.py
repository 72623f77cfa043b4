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

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.urls import set_script_prefix

from helpline.realtime import LazyThreads


class OneThreadASGIHandler(ASGIHandler):
    """``ASGIHandler`` that serves a request in one hop to a thread of a shared pool.

    Django's handler gives every request a thread of its own (a new one, started and
    joined per request) and hops to it three times: the ``request_started`` signal, the
    view, and ``response.close()`` with ``request_finished``. Here all three run in one
    call on one of ``HELPLINE_REQUEST_THREADS`` threads, as a threaded WSGI server runs
    them: the signals that hand the thread's database connection back to the pool
    (``close_old_connections``) run on the thread that used it, before and after the view.
    A streaming response (a static file) is closed after it was sent, on a pool thread.
    """

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self._serve, thread_sensitive=False, executor=request_threads())(
                scope, body_file
            )
            await self.send_response(response, send)
        finally:
            body_file.close()
        if response.streaming:
            await sync_to_async(response.close, thread_sensitive=False, executor=request_threads())()

    def _serve(self, scope, body_file):
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            response = error_response
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__
        if not response.streaming:
            response.close()  # request_finished, on this thread
        return response

    async def get_response_async(self, request):
        # Not used by __call__; kept for callers of Django's API (its own thread, as for a sync view).
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


_request_threads = LazyThreads("HELPLINE_REQUEST_THREADS", "helpline-request")


def request_threads() -> ThreadPoolExecutor:
    """The threads HTTP requests are served on (``HELPLINE_REQUEST_THREADS`` per process)."""
    return _request_threads.get()


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
