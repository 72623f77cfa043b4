"""Inbound Twilio webhooks per second and latency, beside a minimal bare webhook, driven by wrk.

    .venv/bin/python bench/ingest.py [--concurrency 16 64] [--seconds 15] [--rounds 2] [--workers 2]
        [--task-workers 2] [--open-seconds 15] [--profile [--profile-cpu]]

Needs ``wrk`` (Debian: ``apt-get install wrk``) and PostgreSQL and Redis on 127.0.0.1
(``--database-url``, default postgres://postgres@127.0.0.1:5432/helpline_bench, is dropped
and re-created: its name must contain "bench"; ``--redis-url``, default
redis://127.0.0.1:6379/5) with a throwaway key set. Two servers, each uvicorn with
``--workers`` processes, HELPLINE_MODE=production and the psycopg pool, and ``--task-workers``
``db_worker`` processes beside them:

- ingest: POST /integrations/twilio/messages/ of the product (config.asgi), signed with
  Twilio's RequestValidator: signature, endpoint, blind index, encryption, contact,
  waiting reply and its task for a new conversation, notifications through Redis;
- bare: POST /bench/bare/ of bench.bare_app, a minimal Django app outside the project's
  middleware stack (CommonMiddleware only): signature check, AES-GCM, one INSERT.

**Closed loop**: wrk (C, two threads) at each ``--concurrency``, every request precomputed
and signed before timing (bench/ingest.lua cycles through a file per run, so no MessageSid
repeats), rounds interleaved (bare, ingest, ingest, bare). **Open loop**: this script sends
at a fixed rate of half the bare view's closed-loop throughput at the highest concurrency,
over a pool of connections, and measures each latency from the request's *scheduled* send
time, so time spent queueing counts. Senders come from a pool of one per ten messages. Each
open-loop request's scheduled offset and latency are written to ``var/bench-ingest/open-<view>.json``
(with the wall-clock start), to see when in the run the slow ones were sent.
"""

import argparse
import asyncio
import gc
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
INGEST_PATH = "/integrations/twilio/messages/"
BARE_PATH = "/bench/bare/"
LINE_NUMBER = "+15551230000"
BODY = "hi, someone I met in a game keeps asking for photos and says he will tell everyone if I stop answering"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/helpline_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--seconds", type=int, default=15, help="length of each closed-loop wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--open-seconds", type=int, default=15, help="length of each open-loop run")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--senders", type=int, default=200, help="distinct phone numbers writing in")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes per server")
    parser.add_argument("--task-workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample both servers' stacks during each measured run (bench/sampler) and print where time goes",
    )
    parser.add_argument(
        "--profile-cpu",
        action="store_true",
        help="with --profile: weigh each sampled stack by the CPU its thread used, so waiting weighs nothing",
    )
    return parser.parse_args()


# --- Setting up -----------------------------------------------------------------------


def database_recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name or parts.hostname not in {"127.0.0.1", "localhost"}:
        sys.exit("--database-url must name a local throwaway database with 'bench' in its name")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def base_environment(args, var_dir: Path) -> dict:
    from helpline.vault.keys import keyset_generate

    env = dict(os.environ)
    env.update(
        {
            "HELPLINE_MODE": "production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "HELPLINE_KEYS": json.dumps(keyset_generate()),
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CHANNEL_PREFIX": "bench-ingest",
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "false",
            "HELPLINE_INPROCESS_WORKER": "false",
            "HELPLINE_VAR_DIR": str(var_dir),
            "LOG_LEVEL": "WARNING",
        }
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def django_setup(env: dict) -> None:
    """Migrate the bench database, then set Django up in this process against it."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True,
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_POOL"] = "false"
    import django

    django.setup()


def seed(env: dict) -> str:
    """Migrate, then create the line, its SMS endpoint and the bare table; return the auth token."""
    django_setup(env)
    from django.db import connection

    from bench.bare_app.views import CREATE_TABLE
    from helpline.models import ChannelEndpoint
    from helpline.services.lines import helpline_ensure
    from helpline.vault.services import datakey_create, seal

    line = helpline_ensure(slug="bench", name="Bench line", languages=["en"])
    token = secrets.token_hex(16)
    endpoint = ChannelEndpoint(
        line=line,
        channel="sms",
        address=LINE_NUMBER,
        provider_account="AC" + secrets.token_hex(16),
        data_key=datakey_create(),
    )
    seal(endpoint, "provider_secret", token)
    endpoint.save()
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    connection.close()
    return token


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_start(
    env: dict, *, settings_module: str, workers: int, log_path: Path, app: str = "config.asgi:application"
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server_env = {**env, "DJANGO_SETTINGS_MODULE": settings_module, "PUBLIC_BASE_URL": f"http://{HOST}:{port}"}
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so its workers can be stopped with it
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2).close()
            return process, port
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                os.killpg(process.pid, 9)  # its workers too: they are in its process group
                sys.exit(f"uvicorn ({settings_module}) did not start:\n{log_path.read_text()}")
            time.sleep(0.3)


# --- Requests ------------------------------------------------------------------------


def raw_post(port: int, path: str, params: dict, headers: dict) -> bytes:
    body = urlencode(params).encode()
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def twilio_params(n: int, senders: int) -> dict:
    sid = "SM" + secrets.token_hex(16)
    sender = f"+1555{2000000 + n % senders:07d}"
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": f"{BODY} ({n})",
        "To": LINE_NUMBER,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def requests_build(*, kind: str, port: int, token: str, count: int, start: int, senders: int) -> list[bytes]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(token)
    built = []
    for n in range(start, start + count):
        params = twilio_params(n, senders)
        path = INGEST_PATH if kind == "ingest" else BARE_PATH  # both check the signature
        signature = validator.compute_signature(f"http://{HOST}:{port}{path}", params)
        built.append(raw_post(port, path, params, {"X-Twilio-Signature": signature}))
    return built


# --- Load ------------------------------------------------------------------------------


async def read_response(reader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close


async def load(port: int, requests: list[bytes], concurrency: int) -> dict:
    pending = iter(requests)
    latencies: list[float] = []
    failures: dict[int, int] = {}

    async def sender():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for raw in pending:
                started = time.perf_counter()
                writer.write(raw)
                status, close = await read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    failures[status] = failures.get(status, 0) + 1
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "elapsed": elapsed, "failures": failures}


def wrk_line(path: str, signature: str, params: dict) -> str:
    return f"{path}\t{signature}\t{urlencode(params)}\n"


def wrk_file(*, kind, port, token, count, start, senders, path: Path) -> Path:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(token)
    url_path = INGEST_PATH if kind == "ingest" else BARE_PATH
    with open(path, "w") as out:
        for n in range(start, start + count):
            params = twilio_params(n, senders)
            out.write(
                wrk_line(url_path, validator.compute_signature(f"http://{HOST}:{port}{url_path}", params), params)
            )
    return path


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) used so far by the live processes of this machine, by process group and by name.

    Keyed ``("group", pgid)`` (a server and its workers lead their own group) and ``("name", comm)``
    (``postgres``, ``redis-server``): what each side of a run cost, beside its requests.
    """
    totals: dict = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()  # state, ppid, pgrp, ...; utime and stime at 11, 12
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for key in (("group", int(fields[2])), ("name", name)):
            totals[key] = totals.get(key, 0.0) + used
    return totals


def wrk_run(port: int, requests_file: Path, connections: int, seconds: int, *, server_group: int) -> dict:
    """One closed-loop wrk run: throughput, latency percentiles, non-2xx, and CPU of the server and of wrk."""
    cpu_before = cpu_seconds()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "ingest.lua"),
            f"http://{HOST}:{port}",
            "--",
            str(requests_file),
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after = cpu_seconds()

    def used(key) -> float:
        return cpu_after.get(key, 0.0) - cpu_before.get(key, 0.0)

    wrk_cpu = (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)

    def number(pattern, default=0.0):
        import re

        found = re.search(pattern, output)
        return float(found.group(1)) if found else default

    def millis(label):
        import re

        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not found:
            return float("nan")
        return float(found.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[found.group(2)]

    requests = int(number(r"(\d+) requests in"))
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": requests,
        "server_cpu_ms": 1000 * used(("group", server_group)) / max(requests, 1),
        "postgres_cpu_ms": 1000 * used(("name", "postgres")) / max(requests, 1),
        "redis_cpu_ms": 1000 * used(("name", "redis-server")) / max(requests, 1),
        "wrk_cpu": wrk_cpu / seconds,
        "p50": millis("50"),
        "p99": millis("99"),
        "non2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "errors": output.count("Socket errors"),
    }


async def open_loop(port: int, requests: list[bytes], rate: float, connections: int) -> dict:
    """Send request i at start + i / rate on any free connection; latency from that scheduled time."""
    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection(HOST, port))
    latencies: list[float] = []
    trace: list[tuple[float, float]] = []  # (scheduled offset s, latency s) per request, in completion order
    failures: dict[int, int] = {}
    start = time.perf_counter() + 0.1
    wall_start = time.time() + 0.1

    async def one(n, raw):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        reader, writer = await idle.get()  # waiting for a connection is queueing: it counts
        writer.write(raw)
        status, close = await read_response(reader)
        latency = time.perf_counter() - scheduled
        latencies.append(latency)
        trace.append((n / rate, latency))
        if status != 200:
            failures[status] = failures.get(status, 0) + 1
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection(HOST, port)
        idle.put_nowait((reader, writer))

    await asyncio.gather(*(one(n, raw) for n, raw in enumerate(requests)))
    while not idle.empty():
        _reader, writer = idle.get_nowait()
        writer.close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "rate": rate,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "failures": failures,
        "trace": trace,
        "wall_start": wall_start,
    }


def task_workers_start(env: dict, count: int, log_dir: Path) -> list[subprocess.Popen]:
    processes = []
    for n in range(count):
        log = open(log_dir / f"worker-{n}.log", "w")  # noqa: SIM115 - lives as long as the worker
        processes.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--queue-name", "*"],
                cwd=ROOT,
                env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return processes


def main() -> None:
    args = parse_args()
    var_dir = ROOT / "var" / "bench-ingest"
    var_dir.mkdir(parents=True, exist_ok=True)
    database_recreate(args.database_url)
    env = base_environment(args, var_dir)
    sample_dir = var_dir / "samples"
    if args.profile:
        shutil.rmtree(sample_dir, ignore_errors=True)
        sample_dir.mkdir()
        env["HELPLINE_SAMPLE_DIR"] = str(sample_dir)
        env["HELPLINE_SAMPLE_CPU"] = "1" if args.profile_cpu else "0"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bench" / "sampler"), env.get("PYTHONPATH")]))
    token = seed(env)
    env["BENCH_TWILIO_TOKEN"] = token
    env["BENCH_AES_KEY"] = secrets.token_hex(32)
    processes = []
    levels = args.concurrency
    # Enough distinct requests per wrk run for 1,500 requests/s; more would repeat MessageSids (said below),
    # and a repeated one costs the bare view no INSERT (ON CONFLICT DO NOTHING): it ran past 600/s.
    per_run = 1500 * args.seconds
    open_count = 0
    try:
        ingest_server, ingest_port = server_start(
            env, settings_module="config.settings", workers=args.workers, log_path=var_dir / "ingest.log"
        )
        processes.append(ingest_server)
        bare_server, bare_port = server_start(
            env,
            settings_module="bench.bare_app.settings",
            workers=args.workers,
            log_path=var_dir / "bare.log",
            app="bench.bare_app.asgi:application",
        )
        processes.append(bare_server)
        processes += task_workers_start(env, args.task_workers, var_dir)
        ports = {"bare": bare_port, "ingest": ingest_port}
        groups = {"bare": bare_server.pid, "ingest": ingest_server.pid}  # each server leads its process group
        # A fixed pool of senders: at the rates this machine reaches (a few thousand ingest
        # messages per run of the script) about one message in ten opens a conversation.
        senders = args.senders
        next_n = dict.fromkeys(ports, 0)

        def measuring(label: str) -> None:
            if args.profile:  # the samplers keep samples only under a label
                (sample_dir / "label").write_text(label)

        def fresh_file(kind, name):
            path = wrk_file(
                kind=kind,
                port=ports[kind],
                token=token,
                count=per_run,
                start=next_n[kind],
                senders=senders,
                path=var_dir / f"{name}.txt",
            )
            next_n[kind] += per_run
            return path

        warm = {
            kind: requests_build(
                kind=kind, port=ports[kind], token=token, count=args.warmup, start=10**8, senders=senders
            )
            for kind in ports
        }
        for kind in ports:  # worker imports, pools, first contacts
            asyncio.run(load(ports[kind], warm[kind], min(levels)))

        closed = {}
        for level in levels:
            runs = {kind: [] for kind in ports}
            for round_number in range(args.rounds):
                order = ["bare", "ingest"] if round_number % 2 == 0 else ["ingest", "bare"]
                for kind in order:
                    requests_file = fresh_file(kind, f"{kind}-{level}-{round_number}")
                    measuring(f"{level} {kind}")
                    runs[kind].append(
                        wrk_run(ports[kind], requests_file, level, args.seconds, server_group=groups[kind])
                    )
                    measuring("")
            closed[level] = runs

        bare_top = statistics.mean(run["rps"] for run in closed[max(levels)]["bare"])
        rate = bare_top / 2
        open_count = int(rate * args.open_seconds)
        opened = {}
        for kind in ("bare", "ingest"):
            requests = requests_build(
                kind=kind, port=ports[kind], token=token, count=open_count, start=2 * 10**8, senders=senders
            )
            measuring(f"{rate:.0f} open-loop-{kind}")
            # The generator is a Python process too: a full collection of its heap (Django, the built
            # requests; 70-190 ms measured) would delay sends and count as the server's latency.
            gc.collect()
            gc.freeze()
            opened[kind] = asyncio.run(open_loop(ports[kind], requests, rate, max(levels)))
            (var_dir / f"open-{kind}.json").write_text(
                json.dumps({"wall_start": opened[kind]["wall_start"], "trace": opened[kind]["trace"]})
            )
            measuring("")
        if args.profile:
            time.sleep(3)  # the samplers write every 2 s
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)

    from django.db import connection

    from helpline.models import Contact, Message

    stored = Message.objects.filter(direction="in").count()
    contacts = Contact.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_bare_inbound")
        bare_rows = cursor.fetchone()[0]
    connection.close()

    print(
        f"\nInbound webhooks, uvicorn --workers {args.workers} per server, {args.task_workers} db_worker, "
        "PostgreSQL, Redis channel layer"
    )
    print(f"Closed loop (wrk -t2, {args.seconds}s runs, {args.rounds} rounds; medians of runs)")
    print(
        f"{'conns':>6} {'view':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  non-2xx  requests"
        "  CPU ms/req: server  PostgreSQL  Redis   wrk CPU"
    )
    ratios = {}
    for level, runs in closed.items():
        sides = {}
        for kind in ("bare", "ingest"):
            rps = statistics.median(run["rps"] for run in runs[kind])
            p50 = statistics.median(run["p50"] for run in runs[kind])
            p99 = statistics.median(run["p99"] for run in runs[kind])
            non2xx = sum(run["non2xx"] for run in runs[kind])
            total = sum(run["requests"] for run in runs[kind])
            repeated = " (some MessageSids repeated)" if max(run["requests"] for run in runs[kind]) > per_run else ""
            cpu = {
                side: statistics.median(run[f"{side}_cpu_ms"] for run in runs[kind])
                for side in ("server", "postgres", "redis")
            }
            wrk_cpu = max(run["wrk_cpu"] for run in runs[kind])
            sides[kind] = rps
            print(
                f"{level:>6} {kind:<7} {rps:>8.0f} {p50:>8.1f} {p99:>8.1f}  {non2xx:>7}  {total:>8}"
                f"  {cpu['server']:>18.1f} {cpu['postgres']:>11.1f} {cpu['redis']:>6.1f}  {wrk_cpu:>7.0%}{repeated}"
            )
        ratios[level] = sides["ingest"] / sides["bare"]
        print(f"{level:>6} ingest/bare throughput: {ratios[level]:.0%}")
    print(
        f"Open loop at {rate:.0f} requests/s (half the bare view's closed-loop rate at {max(levels)}), "
        f"{args.open_seconds}s, latency from the scheduled send time"
    )
    for kind in ("bare", "ingest"):
        o = opened[kind]
        print(f"{'':>6} {kind:<7} {o['requests']:>8} {o['p50']:>8.1f} {o['p99']:>8.1f}  {o['failures'] or '-'}")
    print(f"\nStored: {stored} inbound messages in {contacts} contacts; bare rows: {bare_rows}")
    met = all(r >= 0.6 for r in ratios.values()) and all(o["p99"] < 50 for o in opened.values())
    print(f"Goal (ingest >= 60% of bare at every level; open-loop p99 < 50 ms for both): {'met' if met else 'MISSED'}")
    if args.profile:
        from bench.sampler_report import profile_summary

        profile_summary(sample_dir, cpu=args.profile_cpu)
    if not args.keep:
        database_drop(args.database_url)


if __name__ == "__main__":
    main()
