"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup(set_prefix=False)

from config.heap import heap_freeze  # noqa: E402
from config.machine import MachineEndpointsHandler, OneThreadASGIHandler, http_router  # noqa: E402

django_asgi_app = OneThreadASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from helpline.worker import start_inprocess_worker_if_configured  # noqa: E402

start_inprocess_worker_if_configured()

application = ProtocolTypeRouter(
    {
        "http": http_router(django_asgi_app, MachineEndpointsHandler()),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Last: everything start-up built lives as long as the process; the collector need not walk it.
heap_freeze()
