"""The real settings with a URLconf that adds the bare view (bench only)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_app.urls"
