"""Both settings modes: the embedded default needs no server; production refuses unsafe values."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audit import roles

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "x7!kP2q9#mZ4vL8wR1tY6uN3bC5dF0gH2jK4lQ7sA9eW1rT3yU5iO8pZ6xV"
GOOD_KEYS = json.dumps(
    {
        "keks": [{"id": "k1", "key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}],
        "index_key": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
    }
)


def django_env(tmp_path, **overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "HELPLINE_", "DATABASE_", "REDIS_", "ALLOWED_", "DEBUG", "PUBLIC_"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "HELPLINE_VAR_DIR": str(tmp_path / "var")})
    env.update(overrides)
    return env


def production_env(tmp_path, **overrides):
    values = {
        "HELPLINE_MODE": "production",
        "DJANGO_SECRET_KEY": GOOD_SECRET,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
        "ALLOWED_HOSTS": "helpline.example.org",
        "PUBLIC_BASE_URL": "https://helpline.example.org",
        "HELPLINE_KEYS": GOOD_KEYS,
    }
    values.update(overrides)
    return django_env(tmp_path, **{k: v for k, v in values.items() if v is not None})


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def app_role_url(transactional_db, django_db_blocker):
    yield from roles.app_role_database_url(django_db_blocker)


def test_production_settings_pass_the_deploy_check(tmp_path, app_role_url):
    # Connected as an application role with the production grants (docs/OPERATIONS.md).
    env = production_env(tmp_path, DATABASE_URL=app_role_url)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_when_the_application_could_rewrite_the_audit_trail(tmp_path, transactional_db):
    # The suite's own role owns the tables (and is a superuser): the one-role recipe issue 9 item 3 broke.
    owner_url = roles.database_url(roles.connection.settings_dict["USER"] or "postgres")
    result = manage(production_env(tmp_path, DATABASE_URL=owner_url), "check", "--deploy")
    assert result.returncode != 0
    assert "helpline.audit.E003" in result.stderr and "append-only trigger" in result.stderr


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY"),
        ({"DEBUG": "true"}, "DEBUG must be false"),
        ({"HELPLINE_KEYS": None}, "HELPLINE_KEYS"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
    ],
)
def test_production_refuses_to_start_on_unsafe_values(tmp_path, override, complaint):
    result = manage(production_env(tmp_path, **override), "check")
    assert result.returncode != 0
    assert complaint in result.stderr
    assert GOOD_SECRET not in result.stderr


def test_production_refuses_demo_data(tmp_path):
    result = manage(production_env(tmp_path), "seed_demo")
    assert result.returncode != 0
    assert "never loads in production" in result.stderr


def test_production_cookies_are_secure(tmp_path):
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, "
        "s.DEBUG, s.CHANNEL_LAYERS['default']['BACKEND'], s.DATABASES['default']['ENGINE'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=production_env(tmp_path), capture_output=True, text=True
    )
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "True",
        "False",
        "helpline.layers.RedisChannelLayer",  # channels_redis with group_send in one round trip
        "django.db.backends.postgresql",
    ], result.stderr


def test_embedded_default_needs_no_server(tmp_path):
    env = django_env(tmp_path)
    script = (
        "import django; django.setup(); from django.conf import settings as s; from django.db import connection; "
        "connection.ensure_connection(); c = connection.cursor(); c.execute('PRAGMA journal_mode'); "
        "print(s.DATABASES['default']['ENGINE'], c.fetchone()[0], s.CHANNEL_LAYERS['default']['BACKEND'], "
        "s.TASKS_INPROCESS_WORKER, s.SESSION_COOKIE_SECURE)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "wal",
        "channels.layers.InMemoryChannelLayer",
        "True",
        "False",
    ], result.stderr
    assert (tmp_path / "var" / "helpline.sqlite3").exists()


def test_unknown_mode_is_refused(tmp_path):
    result = manage(django_env(tmp_path, HELPLINE_MODE="staging"), "check")
    assert result.returncode != 0 and "HELPLINE_MODE" in result.stderr
