"""Many writers at once still build one chain: no two events share a predecessor."""

import threading

import pytest
from django.db import connection

from helpline.audit.models import AuditEvent
from helpline.audit.selectors import audit_chain_verify
from helpline.audit.services import audit_record

THREADS = 8
EVENTS_PER_THREAD = 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unforked_chain():
    start = threading.Barrier(THREADS)
    errors = []

    def write(worker: int):
        try:
            start.wait(timeout=30)
            for n in range(EVENTS_PER_THREAD):
                audit_record(action="test.concurrent", details={"worker": worker, "n": n})
        except Exception as exc:  # collected and asserted below, with the thread's name
            errors.append(f"worker {worker}: {exc!r}")
        finally:
            # Each thread has its own connection; give it back.
            connection.close()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    total = THREADS * EVENTS_PER_THREAD
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) == total
    assert len(set(prev_hashes)) == total  # no fork: every event has its own predecessor
    # Writers really interleaved (the chain is not eight runs of 25).
    workers = [e["worker"] for e in AuditEvent.objects.order_by("id").values_list("details", flat=True)]
    switches = sum(1 for a, b in zip(workers, workers[1:], strict=False) if a != b)
    assert switches > THREADS
    report = audit_chain_verify(chunk_size=37)
    assert report.intact and report.checked == total
