"""Referral delivery throughput: the referral outbox beside a bare HTTP client, same receiver, same run.

The SOP benchmark's delivery half (bench/sop.py is the evaluation half).

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpline \
        flock /tmp/bench.lock .venv/bin/python bench/sop_delivery.py [--referrals 200] [--rounds 3] \
        [--workers 1 4] [--profile]

Seeds a throwaway PostgreSQL database (``test_<name>``, Django's test-database machinery, a
throwaway key set) with the demo taxonomy, agencies and SOP and one sextortion case, and points
the Nairobi police's agency at a signed-webhook receiver on 127.0.0.1 (bench/delivery_peers.py,
its own process: verifies every signature, keeps one referral per Idempotency-Key, answers 201,
HTTP/1.1 keep-alive). Then, for each worker count W and in interleaved rounds:

- **outbox**: ``--referrals`` police referrals confirmed with consent in one transaction (each
  with its sealed document, its ``Delivery`` and its task), committed at once to W
  ``manage.py db_worker`` processes already running on the same database, as in production.
  Timed from the commit until every delivery is recorded delivered (an index lookup every 10 ms): claim,
  unseal the document and the agency's secret, sign, POST, record the outcome, the referral's
  event and its audit row, and the task framework's own bookkeeping;
- **bare client**: W client processes (one keep-alive ``requests.Session`` each) posting the same
  bodies, signed the same way with the same headers, to the same receiver, nothing else: the
  ceiling. Timed from the start signal until the last process is done.

Before the measured rounds, each worker count runs **unmeasured warm-up rounds** of 100 referrals a
worker until every worker has run a batch (at most three): a worker starts its sender process
(``helpline.outbox._ProcessSender``) at its first batch and waits a second or two for it, once in its
life. A production worker is long-lived, so that start is not part of its throughput; the warm-up says
how many rounds it took.

Each round also reads the CPU time every process used (``/proc``): the workers with their sender
processes, PostgreSQL, the receiver, the bare clients, this bench and everything else on the machine,
printed as CPU milliseconds per referral. On a machine with fewer cores than busy processes the
ratio cannot exceed the bare client's CPU per request over the outbox's.

Goal: the outbox delivers at least 80% as many referrals per second as the bare client. Use
``--referrals 1000`` for the throughput figure: a round of 200 lasts about half a second, and the
workers' polling interval and start latency weigh on it.
``--profile`` runs one extra round in this process, a worker loop under cProfile, and prints
where its time goes.
"""

import argparse
import cProfile
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.in_process import django_in_process  # noqa: E402

django_in_process()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from bench.delivery_peers import PATH, SECRET  # noqa: E402
from bench.realtime import _cpu_ticks_by_group  # noqa: E402

PEERS = str(ROOT / "bench" / "delivery_peers.py")


def seed():
    from helpline.services.lines import helpline_ensure
    from tests.conftest import make_staff
    from tests.referrals.world import referral_world

    line = helpline_ensure(slug="demo", name="Demo line", languages=["en", "fr", "sw"])
    counsellor = make_staff("counsellor", "counsellor", line=line)
    case, plan = referral_world(counsellor, line)
    return counsellor, case, plan["ke-police-nairobi"].agency


def queue(*, case, agency, count: int, counsellor) -> list:
    """``count`` queued referrals of the case to the agency, committed together; their deliveries' ids."""
    from referrals.models import Delivery
    from referrals.services.referrals import referral_confirm, referral_consent_record, referral_manual_create

    referrals = []
    with transaction.atomic():
        for _ in range(count):
            referral = referral_manual_create(
                actor=counsellor, case=case, agency=agency, reason="Benchmark", consent_rule="required"
            )
            referral_confirm(actor=counsellor, referral=referral)
            referral_consent_record(actor=counsellor, referral=referral, by="child", method="verbal")
            referrals.append(referral.pk)
    return list(Delivery.objects.filter(referral_id__in=referrals).values_list("pk", flat=True))


def document_body(case, agency, counsellor) -> str:
    """The bare client's bodies: documents of real referrals (queued and sent by nobody), under fresh keys."""
    from helpline.vault.services import unseal
    from referrals.models import Referral

    # The same document the outbox sends, built and sealed by the same confirm path, then rolled back.
    with transaction.atomic():
        [delivery] = queue(case=case, agency=agency, count=1, counsellor=counsellor)
        referral = Referral.objects.select_related("case__data_key").get(deliveries=delivery)
        document = json.loads(unseal(referral, "document"))
        transaction.set_rollback(True)  # nothing left for the workers
    body = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))  # as the transport
    return body


def bodies_write(body: str, count: int) -> str:
    """The bare client's round: ``count`` copies of the body, each under a fresh Idempotency-Key."""
    handle, path = tempfile.mkstemp(suffix=".jsonl")
    with os.fdopen(handle, "w") as out:
        for _ in range(count):
            out.write(json.dumps({"key": str(uuid.uuid4()), "body": body}) + "\n")
    return path


def start_receiver() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, PEERS, "receiver"], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}"


def receiver_stats(base: str) -> dict:
    return requests.get(base + "/stats", timeout=5).json()


def start_workers(count: int, log) -> list[subprocess.Popen]:
    database = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "HELPLINE_INPROCESS_WORKER": "false",
        }
    )
    command = [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.05"]
    return [
        subprocess.Popen(
            [*command, "--no-startup-delay", "--worker-id", f"bench-{number}", "--no-reload", "-v", "0"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its sender process too: their CPU is counted together
        )
        for number in range(count)
    ]


def stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def bare_round(url: str, path: str, clients: int, groups: dict) -> tuple[float, dict]:
    processes = [
        subprocess.Popen(
            [sys.executable, PEERS, "client", url, path, str(index), str(clients)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for index in range(clients)
    ]
    for process in processes:
        assert process.stdout.readline().strip() == "ready"
    groups = {**groups, **{process.pid: "client" for process in processes}}
    before = _cpu_ticks_by_group(groups)
    started = time.perf_counter()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    sent = 0
    for process in processes:
        line = process.stdout.readline().split()
        assert line and line[0] == "done", line
        sent += int(line[1])
    elapsed = time.perf_counter() - started
    used = cpu_used(before, _cpu_ticks_by_group(groups), sent)
    for process in processes:
        process.wait(10)
    return sent / elapsed, used


def wait_delivered(ids, *, timeout: float = 300) -> None:
    """Until no delivery waits or is in flight (polled every 10 ms), then check the round's are all delivered.

    The poll is one index lookup (``delivery_pending``), not a count over the round's ids: the bench's own
    queries must not take the CPU the workers and PostgreSQL share (the round's are the only deliveries queued).
    """
    from referrals.models import Delivery, DeliveryStatus

    deadline = time.monotonic() + timeout
    unfinished = Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
    while unfinished.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("deliveries not all delivered in time")
        time.sleep(0.01)
    delivered = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.DELIVERED).count()
    if delivered != len(ids):
        raise RuntimeError(f"{len(ids) - delivered} of the round's deliveries were not delivered")


def outbox_round(*, case, agency, counsellor, count: int, groups: dict) -> tuple[float, dict]:
    ids = queue(case=case, agency=agency, count=count, counsellor=counsellor)  # committed here
    before = _cpu_ticks_by_group(groups)
    started = time.perf_counter()
    wait_delivered(ids)
    elapsed = time.perf_counter() - started
    return count / elapsed, cpu_used(before, _cpu_ticks_by_group(groups), count)


CPU_GROUPS = ("workers", "postgres", "receiver", "client", "bench", "other")


def cpu_used(before: dict, after: dict, count: int) -> dict[str, float]:
    """CPU milliseconds per item by group of processes between two readings."""
    tick = os.sysconf("SC_CLK_TCK")
    return {group: 1000 * (after.get(group, 0) - before.get(group, 0)) / tick / count for group in CPU_GROUPS}


def cpu_line(used: dict) -> str:
    return ", ".join(f"{group} {used[group]:.2f}" for group in CPU_GROUPS if used[group] >= 0.005)


def warm_up(*, case, agency, counsellor, count: int, workers: int) -> int:
    """Unmeasured rounds until every worker has run a batch (its sender process started); how many it took."""
    from django_tasks_db.models import DBTaskResult

    for rounds in range(1, 4):
        ids = queue(case=case, agency=agency, count=count, counsellor=counsellor)
        wait_delivered(ids)
        ran = set()
        for worker_ids, outcome in DBTaskResult.objects.values_list("worker_ids", "return_value"):
            if isinstance(outcome, str) and outcome.startswith("sent"):
                ran.update(worker_ids)
        if all(f"bench-{number}" in ran for number in range(workers)):
            return rounds
    return 0


def profile_round(*, case, agency, counsellor, count: int) -> None:
    """One worker loop in this process under cProfile, until the queue is empty."""
    import logging

    from helpline.worker import task_worker

    logging.getLogger("django_tasks").setLevel(logging.WARNING)
    logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
    logging.getLogger("integrations.webhook.transport").setLevel(logging.WARNING)
    queue(case=case, agency=agency, count=count, counsellor=counsellor)
    worker = task_worker(worker_id="bench-profile", interval=0, until_empty=True)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(worker.run)
    elapsed = time.perf_counter() - started
    print(f"\nprofile: {count} referrals in {elapsed:.2f} s by one in-process worker under cProfile")
    stats = pstats.Stats(profile).sort_stats("cumulative")
    stats.print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    # Stopped (``timeout``): the workers and the receiver, in sessions of their own, are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    from referrals.services.agencies import agency_update

    old = setup_databases(verbosity=0, interactive=False)
    receiver, base = start_receiver()
    log = tempfile.NamedTemporaryFile("w", prefix="sop_delivery_workers_", suffix=".log", delete=False)  # noqa: SIM115
    print(f"workers' output: {log.name}")
    results = []
    try:
        counsellor, case, agency = seed()
        agency_update(
            actor=None,
            agency=agency,
            transport="webhook",
            transport_config={"url": base + PATH},
            secrets={"signing_secret": SECRET},
        )
        body = document_body(case, agency, counsellor)
        print(
            f"PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
            f"{args.referrals} referrals a round, {args.rounds} rounds"
        )
        for workers in args.workers:
            processes = start_workers(workers, log)
            groups = {receiver.pid: "receiver", **{process.pid: "workers" for process in processes}}
            try:
                time.sleep(3)  # Django set up in every worker
                warm = warm_up(case=case, agency=agency, counsellor=counsellor, count=100 * workers, workers=workers)
                print(
                    f"W={workers} warm-up: "
                    + (
                        f"every worker ran a batch after {warm} round(s)"
                        if warm
                        else "some worker ran no batch in 3 rounds (its first batch will wait for its sender process)"
                    ),
                    flush=True,
                )
                outbox_rates, bare_rates = [], []
                for number in range(1, args.rounds + 1):
                    path = bodies_write(body, args.referrals)
                    bare, bare_cpu = bare_round(base + PATH, path, workers, groups)
                    os.unlink(path)
                    outbox, outbox_cpu = outbox_round(
                        case=case, agency=agency, counsellor=counsellor, count=args.referrals, groups=groups
                    )
                    bare_rates.append(bare)
                    outbox_rates.append(outbox)
                    print(
                        f"W={workers} round {number}: outbox {outbox:7.1f}/s  bare client {bare:7.1f}/s  "
                        f"ratio {outbox / bare:5.2f}  (load {os.getloadavg()[0]:.1f})\n"
                        f"    CPU ms a referral, outbox: {cpu_line(outbox_cpu)}\n"
                        f"    CPU ms a request, bare:    {cpu_line(bare_cpu)}",
                        flush=True,
                    )
            finally:
                stop(processes)
            results.append((workers, statistics.median(outbox_rates), statistics.median(bare_rates)))
        if args.profile:
            profile_round(case=case, agency=agency, counsellor=counsellor, count=args.referrals)
        print()
        for workers, outbox, bare in results:
            print(
                f"{workers} worker(s) / {workers} client(s), median of {args.rounds} rounds of {args.referrals}: "
                f"outbox {outbox:.1f} referrals/s, bare client {bare:.1f} requests/s, "
                f"ratio {outbox / bare:.2f} (goal >= 0.80)"
            )
        stats = receiver_stats(base)
        print(
            f"receiver: {stats['requests']} requests, {stats['referrals']} distinct referrals, "
            f"{stats['refused']} refused signatures"
        )
    finally:
        stop([receiver])
        connection.close()
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
