"""Many writers at once, without a lock between them, and a linker beside them: one chain, every committed event once.

Also the writer that dies: what it committed is linked; what it had not committed never appears.
"""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection

from helpline.audit.linker import audit_link_pending
from helpline.audit.models import AuditEvent, AuditLink
from helpline.audit.selectors import audit_chain_verify
from helpline.audit.services import audit_record

ROOT = Path(__file__).resolve().parents[2]
THREADS = 8
EVENTS_PER_THREAD = 25

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(target, count):
    errors = []

    def guarded(worker):
        try:
            target(worker)
        except Exception as exc:  # collected and asserted by the caller, with the thread's number
            errors.append(f"worker {worker}: {exc!r}")
        finally:
            connection.close()  # each thread has its own connection; give it back

    threads = [threading.Thread(target=guarded, args=(worker,)) for worker in range(count)]
    for thread in threads:
        thread.start()
    return threads, errors


def assert_one_chain_of_every_event(total):
    links = list(AuditLink.objects.order_by("position").values("position", "event_id", "prev_hash", "hash"))
    assert [link["position"] for link in links] == list(range(1, total + 1))
    assert sorted(link["event_id"] for link in links) == sorted(AuditEvent.objects.values_list("id", flat=True))
    assert len({link["prev_hash"] for link in links}) == total  # no fork: every link has its own predecessor
    for previous, link in zip(links, links[1:], strict=False):
        assert link["prev_hash"] == previous["hash"]
    report = audit_chain_verify(chunk_size=37)
    assert report.intact and report.checked == total and report.unlinked == 0


def test_concurrent_writers_and_linkers_build_one_chain_of_every_event():
    start = threading.Barrier(THREADS + 2)
    writers_done = threading.Event()

    def write(worker: int):
        start.wait(timeout=30)
        for n in range(EVENTS_PER_THREAD):
            audit_record(action="test.concurrent", details={"worker": worker, "n": n})

    def link(_):
        # Two linkers racing each other and the writers (the periodic job on two machines).
        start.wait(timeout=30)
        while not writers_done.is_set():
            audit_link_pending()

    writers, errors = run_threads(write, THREADS)
    linkers, linker_errors = run_threads(link, 2)
    for thread in writers:
        thread.join(timeout=120)
    writers_done.set()
    for thread in linkers:
        thread.join(timeout=120)
    audit_link_pending()  # whatever committed after the linkers' last pass

    assert errors == [] and linker_errors == []
    total = THREADS * EVENTS_PER_THREAD
    assert AuditEvent.objects.count() == total
    assert_one_chain_of_every_event(total)
    # Writers really interleaved (the chain is not eight runs of 25).
    workers = [
        details["worker"] for details in AuditLink.objects.order_by("position").values_list("event__details", flat=True)
    ]
    switches = sum(1 for a, b in zip(workers, workers[1:], strict=False) if a != b)
    assert switches > THREADS


def test_writers_do_not_wait_for_each_other():
    """A transaction holding an uncommitted event does not stop another from recording and committing."""
    from django.db import transaction

    held = threading.Event()
    release = threading.Event()

    def hold_open(_):
        with transaction.atomic():
            audit_record(action="test.uncommitted", details={"held": True})
            held.set()
            release.wait(timeout=60)
            raise RuntimeError("rolled back on purpose")

    holder, errors = run_threads(hold_open, 1)
    assert held.wait(timeout=30)
    try:
        # With the old chain lock this call blocked until the other transaction ended.
        committed = audit_record(action="test.committed")
        assert audit_link_pending() == 1
        assert AuditLink.objects.get().event_id == committed.pk
    finally:
        release.set()
        holder[0].join(timeout=60)
    assert errors == ["worker 0: RuntimeError('rolled back on purpose')"]
    assert not AuditEvent.objects.filter(action="test.uncommitted").exists()
    assert_one_chain_of_every_event(1)


KILLED_WRITER = """
import sys
import django
django.setup()
from django.db import transaction
from helpline.audit.services import audit_record

audit_record(action="test.committed", details={"by": "killed writer"})
with transaction.atomic():
    audit_record(action="test.uncommitted", details={"by": "killed writer"})
    print("holding", flush=True)
    sys.stdin.read()  # until killed
"""


def test_a_writer_killed_before_linking_loses_only_what_it_had_not_committed():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "DATABASE_POOL": "false",
    }
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "holding", writer.stderr.read()
        # Its uncommitted event is invisible while it lives...
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.committed"]
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=30)
    # ...and gone with it; its committed event is linked by the linker of another process.
    assert audit_link_pending() == 1
    assert list(AuditLink.objects.values_list("event__action", "event__details")) == [
        ("test.committed", {"by": "killed writer"})
    ]
    assert not AuditEvent.objects.filter(action="test.uncommitted").exists()
    assert_one_chain_of_every_event(1)


def _database_url() -> str:
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    return f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
