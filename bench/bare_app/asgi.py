"""Plain Django under ASGI: no Channels, no WebSockets, no in-process worker."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare_app.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()

from config.heap import heap_freeze  # noqa: E402

# The same process start-up as config.asgi: the bare view differs in its view and middleware only.
heap_freeze()
