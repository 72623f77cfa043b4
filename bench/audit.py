"""What the audit trail costs a platform of concurrent writers: audited transactions per second vs the same without.

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpline \
        .venv/bin/python bench/audit.py [--writers 1 4 16] [--rounds 3] [--seconds 4]

Runs in a throwaway database (``test_bench_audit``) with a throwaway key set. Each
writer is its own process with its own connection (as uvicorn workers and task
workers are), committing one transaction after another for ``--seconds``:

- **plain**: the transaction without any audit event. Two kinds (``--transactions``):
  *note*, what a service does (lock the record worked on with SELECT ... FOR UPDATE,
  seal and INSERT a 1 KB note under its data key, UPDATE the record), and *insert*,
  one INSERT of a 1 KB row (the cheapest transaction there is, so the audit's worst case);
- **plain + one more row** (control): the plain transaction plus an INSERT of one more
  small row, to show what any one more statement costs;
- **audited**: the plain transaction plus ``audit_record(...)`` about it, in the same transaction;
- **audited, old chain lock**: the audited one, but first taking the transaction-level advisory
  lock the previous design held until commit (what every audited transaction paid
  before the linker), for comparison.

Meanwhile one linker process runs ``audit_link_pending()`` every ``--link-every``
seconds, as the periodic job does, so its cost is inside the figures. Variants are
interleaved in shuffled rounds; the script prints transactions per second (median of
rounds) and the ratio audited / plain (median of per-round ratios). At the end it
links what is left, verifies the whole chain and reports how far the linker lagged.
"""

import argparse
import multiprocessing
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.in_process import django_in_process  # noqa: E402

# One plain connection per writer process, as a pool of one would give.
django_in_process(DATABASE_POOL="false")

from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

from helpline.audit.actions import action_register  # noqa: E402
from helpline.audit.linker import audit_link_pending  # noqa: E402
from helpline.audit.models import AuditEvent, AuditLink  # noqa: E402
from helpline.audit.selectors import audit_chain_verify  # noqa: E402
from helpline.audit.services import audit_record  # noqa: E402
from helpline.vault.services import datakey_create, seal  # noqa: E402
from tests.testapp.models import Note, NoteComment, PlainComment  # noqa: E402

BENCH_ACTION = action_register("bench.comment_added", "Benchmark: comment added")
OLD_CHAIN_LOCK_KEY = 0x6175646974  # the advisory lock every audited transaction took before the linker
BODY = "x" * 1024
VARIANTS = ("plain", "plain + one more row", "audited", "audited, old chain lock")
TRANSACTIONS = ("note", "insert")
TRANSACTION_LABELS = {
    "note": "note (lock the record FOR UPDATE, seal and INSERT a 1 KB note, UPDATE the record)",
    "insert": "insert (one INSERT of a 1 KB row: the cheapest transaction, the audit's worst case)",
}


def one_transaction(kind: str, variant: str, note_id) -> None:
    with transaction.atomic():
        if kind == "note":
            # What a service does: lock the record worked on, add a sealed note, touch the record.
            parent = Note.objects.select_related("data_key").select_for_update(of=("self",)).get(pk=note_id)
            comment = NoteComment(note=parent)
            seal(comment, "body", BODY)
            comment.save(force_insert=True)
            Note.objects.filter(pk=note_id).update(title=str(comment.pk)[:8])
        else:
            comment = PlainComment.objects.create(note_id=note_id, body=BODY)
        if variant == "plain":
            return
        if variant == "plain + one more row":
            PlainComment.objects.create(note_id=note_id, body=str(comment.pk))
            return
        if variant == "audited, old chain lock":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [OLD_CHAIN_LOCK_KEY])
        audit_record(action=BENCH_ACTION, record=comment, details={"bytes": len(BODY)})


def writer(kind, variant, note_id, start, seconds, results):
    connections.close_all()  # never share the parent's socket
    one_transaction(kind, "plain", note_id)  # connect before the clock starts
    start.wait()
    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        one_transaction(kind, variant, note_id)
        count += 1
    results.put(count)
    connections.close_all()


def linker(stop, every, lags):
    connections.close_all()
    worst = 0
    while not stop.wait(every):
        worst = max(worst, audit_link_pending())
    lags.put(worst)
    connections.close_all()


def run_round(kind: str, variant: str, writers: int, seconds: float, note_ids) -> float:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(writers)
    results = context.Queue()
    processes = [
        context.Process(target=writer, args=(kind, variant, note_id, start, seconds, results))
        for note_id in note_ids[:writers]
    ]
    for process in processes:
        process.start()
    counts = [results.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--transactions", nargs="+", choices=TRANSACTIONS, default=list(TRANSACTIONS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--link-every", type=float, default=4.0, help="Seconds between linker runs (the job's).")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "test_bench_audit"
    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        note_ids = [
            Note.objects.create(data_key=datakey_create(), title=f"writer {n}").pk for n in range(max(args.writers))
        ]
        connections.close_all()
        context = multiprocessing.get_context("fork")
        stop, lags = context.Event(), context.Queue()
        link_process = context.Process(target=linker, args=(stop, args.link_every, lags))
        link_process.start()

        rng = random.Random(args.seed)
        rates = {(kind, variant, n): [] for kind in args.transactions for variant in VARIANTS for n in args.writers}
        for _ in range(args.rounds):
            for writers in args.writers:
                order = [(kind, variant) for kind in args.transactions for variant in VARIANTS]
                rng.shuffle(order)
                for kind, variant in order:
                    rates[(kind, variant, writers)].append(run_round(kind, variant, writers, args.seconds, note_ids))

        stop.set()
        worst_batch = lags.get(timeout=120)
        link_process.join(timeout=60)
        waiting = AuditEvent.objects.filter(link__isnull=True).count()
        started = time.perf_counter()
        audit_link_pending()
        final_link = time.perf_counter() - started
        started = time.perf_counter()
        report = audit_chain_verify()
        verify_seconds = time.perf_counter() - started

        print(
            f"audit benchmark on {connection.vendor}: {args.rounds} rounds x {args.seconds:g} s per variant, "
            f"writer processes {args.writers}, linker every {args.link_every:g} s"
        )
        for kind in args.transactions:
            print(f"transaction: {TRANSACTION_LABELS[kind]}")
            print(f"  {'writers':>7}  {'variant':<26} {'tx/s':>8}   / plain (ratio of medians, median of ratios)")
            for writers in args.writers:
                plain = rates[(kind, "plain", writers)]
                for variant in VARIANTS:
                    measured = rates[(kind, variant, writers)]
                    line = f"  {writers:>7}  {variant:<26} {statistics.median(measured):>8.1f}"
                    if variant != "plain":
                        of_medians = statistics.median(measured) / statistics.median(plain)
                        of_rounds = statistics.median(a / b for a, b in zip(measured, plain, strict=True))
                        line += f"   {of_medians:.3f} {of_rounds:.3f}"
                    print(line)
        print(
            f"linker: largest batch {worst_batch} events; {waiting} waiting at the end, linked in "
            f"{final_link * 1000:.0f} ms"
        )
        print(
            f"chain: {report.checked} links of {AuditEvent.objects.count()} events, "
            f"{'intact' if report.intact else 'BROKEN: ' + report.problem}, verified in {verify_seconds:.1f} s "
            f"({AuditLink.objects.count() / max(verify_seconds, 1e-9):.0f} links/s)"
        )
    finally:
        connections.close_all()
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
