"""Inbound Twilio webhooks per second and latency, side by side with a bare insert-one-row view.

    .venv/bin/python bench/ingest.py [--requests 4000] [--concurrency 16 64] [--rounds 4] [--workers 2]

Uses PostgreSQL and Redis on 127.0.0.1 (``--database-url``, default
postgres://postgres@127.0.0.1:5432/helpline_bench, is dropped and re-created:
its name must contain "bench"; ``--redis-url``, default redis://127.0.0.1:6379/5)
and a throwaway key set. Two uvicorn servers run the production ASGI app
(config.asgi, HELPLINE_MODE=production, the psycopg pool) with ``--workers``
processes each:

- ingest: POST /integrations/twilio/messages/, signed with Twilio's RequestValidator;
  the full path (signature, endpoint, blind index, encryption, dedupe, contact,
  waiting reply, task, channel-layer notifications);
- bare: POST /bench/bare/ of bench.bare_app: the same settings and middleware,
  one INSERT, the same empty TwiML.

The load generator is one asyncio process speaking HTTP/1.1 keep-alive over
raw sockets (cheap, so that it steals little CPU from the servers), with
every request built and signed before timing starts. Each concurrency level
runs in interleaved rounds (bare, ingest, ingest, bare, ...) so machine
noise hits both sides alike. Senders come from a pool of one per ten
messages, so about one message in ten opens a new conversation, as on a line
where a conversation runs to a handful of messages each way.
"""

import argparse
import asyncio
import json
import os
import secrets
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
    parser.add_argument("--requests", type=int, default=4000, help="measured requests per side and level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
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


def server_start(env: dict, *, settings_module: str, workers: int, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server_env = {**env, "DJANGO_SETTINGS_MODULE": settings_module, "PUBLIC_BASE_URL": f"http://{HOST}:{port}"}
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
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
                process.kill()
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
        if kind == "ingest":
            signature = validator.compute_signature(f"http://{HOST}:{port}{INGEST_PATH}", params)
            built.append(raw_post(port, INGEST_PATH, params, {"X-Twilio-Signature": signature}))
        else:
            built.append(raw_post(port, BARE_PATH, params, {}))
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


def summary(runs: list[dict]) -> dict:
    latencies = sorted(latency for run in runs for latency in run["latencies"])
    elapsed = sum(run["elapsed"] for run in runs)
    failures: dict[int, int] = {}
    for run in runs:
        for status, count in run["failures"].items():
            failures[status] = failures.get(status, 0) + count
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "failures": failures,
    }


def main() -> None:
    args = parse_args()
    var_dir = ROOT / "var" / "bench-ingest"
    var_dir.mkdir(parents=True, exist_ok=True)
    database_recreate(args.database_url)
    env = base_environment(args, var_dir)
    token = seed(env)
    servers = []
    try:
        ingest_server, ingest_port = server_start(
            env, settings_module="config.settings", workers=args.workers, log_path=var_dir / "ingest.log"
        )
        servers.append(ingest_server)
        bare_server, bare_port = server_start(
            env, settings_module="bench.bare_app.settings", workers=args.workers, log_path=var_dir / "bare.log"
        )
        servers.append(bare_server)
        ports = {"bare": bare_port, "ingest": ingest_port}

        levels = args.concurrency
        total = args.warmup + args.requests * len(levels)
        senders = max(1, total // 10)
        built = {
            kind: requests_build(kind=kind, port=ports[kind], token=token, count=total, start=0, senders=senders)
            for kind in ports
        }
        offsets = dict.fromkeys(ports, 0)

        def take(kind, count):
            chunk = built[kind][offsets[kind] : offsets[kind] + count]
            offsets[kind] += count
            return chunk

        for kind in ports:  # warm both servers: worker imports, pools, first contacts
            asyncio.run(load(ports[kind], take(kind, args.warmup), min(levels)))

        results = {}
        per_round = args.requests // args.rounds
        for level in levels:
            runs = {kind: [] for kind in ports}
            for round_number in range(args.rounds):
                order = ["bare", "ingest"] if round_number % 2 == 0 else ["ingest", "bare"]
                for kind in order:
                    runs[kind].append(asyncio.run(load(ports[kind], take(kind, per_round), level)))
            results[level] = {kind: summary(runs[kind]) for kind in ports}
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    from django.db import connection

    from helpline.models import Contact, Message

    stored = Message.objects.filter(direction="in").count()
    contacts = Contact.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_bare_inbound")
        bare_rows = cursor.fetchone()[0]
    connection.close()

    print(f"\nInbound webhooks, uvicorn --workers {args.workers}, PostgreSQL, Redis channel layer")
    print(f"{'senders':>8} {'view':<7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  non-200")
    for level, sides in results.items():
        for kind in ("bare", "ingest"):
            s = sides[kind]
            print(
                f"{level:>8} {kind:<7} {s['requests']:>8} {s['rps']:>8.0f} {s['p50']:>8.1f} {s['p99']:>8.1f}  "
                f"{s['failures'] or '-'}"
            )
        ratio = sides["ingest"]["rps"] / sides["bare"]["rps"]
        print(f"{level:>8} ingest/bare throughput: {ratio:.0%}")
    print(f"\nStored: {stored} inbound messages in {contacts} contacts; bare rows: {bare_rows}")
    goal16 = results.get(16)
    if goal16:
        ratio = goal16["ingest"]["rps"] / goal16["bare"]["rps"]
        ok = ratio >= 0.6 and goal16["ingest"]["p99"] < 50
        print(f"Goal (>= 60% of bare, p99 < 50 ms at 16 senders): {'met' if ok else 'MISSED'}")
    if not args.keep:
        database_drop(args.database_url)


if __name__ == "__main__":
    main()
