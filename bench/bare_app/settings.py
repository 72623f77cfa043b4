"""The real settings (database pool, keys, logging), with the minimal app's URLconf and one middleware."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_app.urls"
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
