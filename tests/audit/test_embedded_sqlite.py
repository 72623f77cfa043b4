"""The embedded mode (SQLite, no trigger): events are linked as recorded; audit_verify names a changed or removed one.

Runs the real commands in a subprocess against a fresh SQLite database, because
the suite itself runs on PostgreSQL.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RECORD_EVENTS = """
import threading
from django.db import connection
from helpline.audit.models import AppendOnlyError, AuditEvent
from helpline.audit.actions import action_register
from helpline.audit.services import audit_record

action_register("test.embedded", "Test event")
action_register("test.embedded_thread", "Test event")
for n in range(5):
    audit_record(action="test.embedded", details={"n": n}, reason=f"event {n}")
try:
    AuditEvent.objects.all().delete()
except AppendOnlyError:
    print("orm delete refused")

def write(worker):
    try:
        for n in range(10):
            audit_record(action="test.embedded_thread", details={"worker": worker, "n": n})
    finally:
        connection.close()

threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("events", AuditEvent.objects.count())
"""


@pytest.fixture
def embedded(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        HELPLINE_VAR_DIR=str(tmp_path),
        HELPLINE_INPROCESS_WORKER="false",
        HELPLINE_MODE="embedded",
    )

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
        )

    migrated = manage("migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    return manage, tmp_path / "helpline.sqlite3"


def test_sqlite_chain_detects_a_changed_and_a_removed_event(embedded):
    manage, database = embedded
    recorded = manage("shell", "-v0", "-c", RECORD_EVENTS)
    assert recorded.returncode == 0, recorded.stderr
    assert "orm delete refused" in recorded.stdout
    assert "events 45" in recorded.stdout

    intact = manage("audit_verify")
    assert intact.returncode == 0, intact.stderr
    # On SQLite every event is linked as it is recorded: nothing waits for the linker.
    assert intact.stdout.startswith("45 events linked, chain intact")
    assert intact.stdout.strip().endswith("0 waiting for the linker")

    # No trigger on SQLite: anyone with the file can write to it, and the verifier must notice.
    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_auditevent SET reason = 'rewritten' WHERE id = 2")
    changed = manage("audit_verify")
    assert changed.returncode == 2
    assert "event 2 at position 2 was changed" in changed.stderr

    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_auditevent SET reason = 'event 1' WHERE id = 2")
    assert manage("audit_verify").returncode == 0

    exported = manage("audit_verify", "--export")
    assert exported.returncode == 0 and exported.stdout.strip().endswith("@45")

    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM audit_auditlink WHERE event_id = 3")
        db.execute("DELETE FROM audit_auditevent WHERE id = 3")
    removed = manage("audit_verify")
    assert removed.returncode == 2
    assert "event 4 at position 4 follows a gap: position 3 is missing" in removed.stderr

    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM audit_auditlink WHERE position >= 3")
        db.execute("DELETE FROM audit_auditevent WHERE id >= 3")
    assert manage("audit_verify").returncode == 0  # a shortened chain still links...
    cut = manage("audit_verify", "--expect", exported.stdout.strip())
    assert cut.returncode == 2  # ...but not to the copy held elsewhere
    assert "the chain ends at position 2, before the expected position 45" in cut.stderr
