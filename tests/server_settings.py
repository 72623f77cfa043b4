"""The browser tests' server (tests/conftest.py asgi_server): the suite's settings, and the test-only pages."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.testapp.urls"
