"""Plain Django under ASGI: no Channels, no WebSockets, no in-process worker."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare_app.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
