"""The suite's settings: the real settings plus a small app of test-only models."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]

# Password hashing is not under test and its full strength costs a second a login;
# the browser tests' server process reads the same setting, so hashes agree.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

MIDDLEWARE = [*MIDDLEWARE, "tests.testapp.middleware.forget_flushed_rows"]
