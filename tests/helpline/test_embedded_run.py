"""`make run` on the embedded default: SQLite, in-memory layer, in-process worker, demo logins printed."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "HELPLINE_", "DJANGO_"))}
    env.update({"PORT": str(port), "HELPLINE_VAR_DIR": str(tmp_path / "var")})
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115 - read back after the server stops
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield port, env, log, process
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


def wait_for_health(port, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return response.status, json.load(response)
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the embedded server did not answer /healthz in time")


def shell(env, code):
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_run_serves_health_within_a_minute_and_runs_tasks(embedded_server):
    port, env, log, process = embedded_server
    status, body = wait_for_health(port, time.monotonic() + 60)
    assert status == 200
    assert body["checks"]["database"]["vendor"] == "sqlite"
    assert body["checks"]["channel_layer"]["backend"] == "InMemoryChannelLayer"
    assert body["checks"]["tasks"]["inprocess_worker"] is True

    log.seek(0)
    output = log.read()
    assert "user counsellor" in output and "backup codes" in output
    assert f"http://127.0.0.1:{port}/" in output

    # The worker inside the web process picks up work queued by anyone.
    task_id = shell(
        env,
        "from helpline.outbox import outbox_deliver as t; "
        "print(t.enqueue('message', '00000000-0000-0000-0000-000000000000').id)",
    )
    deadline = time.monotonic() + 30
    status_code = ""
    while time.monotonic() < deadline and status_code != "SUCCESSFUL":
        time.sleep(0.5)
        status_code = shell(
            env, f"from django_tasks_db.models import DBTaskResult as R; print(R.objects.get(id='{task_id}').status)"
        )
    assert status_code == "SUCCESSFUL"
    assert process.poll() is None
