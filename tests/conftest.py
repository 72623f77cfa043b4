"""Shared fixtures. Users are named for their roles (counsellor, supervisor, admin, authority, outsider)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.permissions import rule_modules

# Each app's permission rules and the fixtures that fill their {parameters} (see tests/permissions.py).
pytest_plugins = rule_modules()


def pytest_configure(config):
    """The suite runs against real PostgreSQL and Redis; it stops loudly when they cannot be reached."""
    problems = []
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres"):
        problems.append("DATABASE_URL must point at PostgreSQL (make test sets it)")
    if not redis_url.startswith("redis"):
        problems.append("REDIS_URL must point at Redis (make test sets it)")
    for name, url in (("PostgreSQL", database_url), ("Redis", redis_url)):
        parsed = urlparse(url)
        if parsed.hostname:
            try:
                socket.create_connection((parsed.hostname, parsed.port or 0), timeout=3).close()
            except OSError as exc:
                problems.append(f"{name} at {parsed.hostname}:{parsed.port} is unreachable ({exc})")
    if problems:
        pytest.exit("Test services missing:\n  " + "\n  ".join(problems), returncode=3)


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API keeps an event loop running in this
    thread for the whole session, and async tests cannot start their own after it."""
    items.sort(key=lambda item: "tests/browser/" in str(item.path).replace("\\", "/"))


@pytest.fixture(scope="session", autouse=True)
def _database_pool_closed_at_the_end(django_db_setup, django_db_blocker):
    """The consumers' database threads leave idle connections in the pool; close it before the
    test database is dropped (teardown runs before django_db_setup's), or the DROP is refused."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from helpline.realtime import database_threads_stop

    with django_db_blocker.unblock():
        database_threads_stop()
        # And the connection of the one thread database_sync_to_async runs on.
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()
        for connection in connections.all():
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()


@pytest.fixture(autouse=True)
def _fresh_state(settings):
    """Each test starts with an empty cache and no values remembered for log redaction."""
    from django.core.cache import cache

    from helpline.vault.redaction import forget_protected

    cache.clear()
    forget_protected()
    yield


@pytest.fixture
def demo_line(db):
    from helpline.services.lines import helpline_ensure

    return helpline_ensure(slug="demo", name="Demo line", languages=["en", "fr", "sw"])


PASSWORD = "correct horse battery staple"


def make_staff(username, role, *, line=None, enrolled=True):
    from helpline.services.staff import staff_create
    from helpline.services.twofactor import totp_device_create

    staff = staff_create(
        username=username,
        password=PASSWORD,
        role=role,
        line_slugs=[line.slug] if line else [],
        languages=["en"],
    )
    if enrolled:
        totp_device_create(user=staff.user, confirmed=True)
    return staff.user


@pytest.fixture
def counsellor(demo_line):
    return make_staff("counsellor", "counsellor", line=demo_line)


@pytest.fixture
def supervisor(demo_line):
    return make_staff("supervisor", "supervisor", line=demo_line)


@pytest.fixture
def colleague(demo_line):
    """A second counsellor on the same line."""
    return make_staff("colleague", "counsellor", line=demo_line)


@pytest.fixture
def other_line(db):
    from helpline.services.lines import helpline_ensure

    return helpline_ensure(slug="other", name="Other line", languages=["en"])


@pytest.fixture
def far_supervisor(other_line):
    """A supervisor of another line."""
    return make_staff("farsupervisor", "supervisor", line=other_line)


@pytest.fixture
def admin_user(demo_line):
    return make_staff("administrator", "admin")


@pytest.fixture
def authority(demo_line):
    return make_staff("authority", "authority")


@pytest.fixture
def outsider(db):
    """A user with a password and a device but no helpline role."""
    from django.contrib.auth import get_user_model

    from helpline.services.twofactor import totp_device_create

    user = get_user_model().objects.create_user("outsider", password=PASSWORD)
    totp_device_create(user=user, confirmed=True)
    return user


def totp_now(user, *, confirmed=True) -> str:
    """The code the user's authenticator app shows now."""
    from helpline.models import SealedTOTPDevice

    return totp_code(SealedTOTPDevice.objects.select_related("data_key").get(user=user, confirmed=confirmed))


def totp_code(device, *, steps_ahead=0) -> str:
    """The code ``device``'s app shows now (or ``steps_ahead`` time steps later, for drift)."""
    from django_otp.oath import TOTP

    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    clock.time = time.time() + steps_ahead * device.step
    return f"{clock.token():0{device.digits}d}"


def login_failures_age(seconds: float = 60) -> None:
    """As if ``seconds`` had passed since every recorded login failure (helpline.login_throttle
    makes each failure's (name, address) pair wait before its next try)."""
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.db.models import F

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=seconds))


def login_verified(client, user):
    """Log in the way a person does: password, then a code from the authenticator."""
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    response = client.post("/2fa/verify/", {"token": totp_now(user)})
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def verified_client(client):
    def _login(user):
        return login_verified(client, user)

    return _login


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_http():
    """Start a programmable HTTP server on 127.0.0.1 per call (tests/fakes/http.py); all stop after the test."""
    from tests.fakes.http import fake_http_servers

    with fake_http_servers() as start:
        yield start


@contextlib.contextmanager
def uvicorn_serving(log_path: Path, *, env: dict, options=(), drop=()):
    """uvicorn serving ``config.asgi`` from its own process on a free port of 127.0.0.1, against the suite's
    test database; yields its URL once ``/healthz`` answers, and stops it afterwards."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The browser tests relax Django's async-safety check for their own thread only; the server must keep it.
    server_env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", *drop)}
    server_env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.server_settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "HELPLINE_INPROCESS_WORKER": "false",
            "PUBLIC_BASE_URL": url,
            **env,
        }
    )
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [*command, *options], cwd=Path(__file__).resolve().parents[1], env=server_env, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"uvicorn did not start:\n{log_path.read_text()}") from None
            time.sleep(0.3)
    try:
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a connection still draining after the last test: the run is over
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The production ASGI server (uvicorn) serving the app against the suite's test database,
    in its own process, for tests that need a real server: browsers, simulate_sms."""
    log_path = tmp_path_factory.mktemp("server") / "uvicorn.log"
    # Every test browser is 127.0.0.1: the per-address cap on new chats (tested on its
    # own in tests/helpline/webchat/test_abuse_limits.py) would refuse the later tests.
    with uvicorn_serving(log_path, env={"HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS": "100000"}) as url:
        yield {"url": url, "log": log_path}
