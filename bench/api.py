"""The referral API at scale: an agency with 10,000 referrals on PostgreSQL, read through real HTTP.

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpline \
        flock -x /tmp/bench.lock .venv/bin/python -u bench/api.py [--referrals 10000] [--rounds 60] [--deep-page 150]

Seeds a throwaway database (``test_bench_api``, Django's test-database machinery, a throwaway key
set): the demo line, agencies and SOP, one sextortion case whose police referral is confirmed,
approved and delivered for real (its document sealed), then ``--referrals - 1`` more referrals
to the same agency copied with plain SQL, each with its own ``updated_at``. Starts two uvicorn
servers with the same flags on that database: the API (``config.asgi``: ``/api/v1/`` on the
machine stack) and the bare baseline (``bench.bare_app``: plain Django, CommonMiddleware only, the
same database pool, a view that runs the raw SQL below and answers the rows as JSON). Makes an API
key with the ``read`` scope, and measures in the same interleaved, shuffled rounds, each server
over its own keep-alive HTTP connection from this process:

- **first page**: ``GET /api/v1/referrals/`` (50 rows);
- **deep page**: page ``--deep-page`` (its cursor found by walking the pages once beforehand);
- **fetch**: ``GET /api/v1/referrals/{id}/`` of the delivered referral (unseals the document,
  audits the read);

each through **HTTP** (the whole request: key check, throttle, query, serializer, the ``api.called``
audit write, JSON), through the **bare** server (no key, no throttle, no audit: the raw SQL, for
the fetch the document decrypted by the vault's primitives, JSON), for the two list pages also
**ORM** (the list's code below HTTP in this process: the selector's queryset as the view narrows
it, the cursor's filter, the serializer), beside the **raw SQL** for the same rows in this process
(``bench.bare_app.referrals``: only the columns the answer has, a plain psycopg cursor on a warm
connection; for the fetch the referral row with its sealed document and the case's wrapped key,
its events and its questions, nothing decrypted). It prints the client's own CPU time per HTTP
call, to show the client is not what the HTTP figures measure. It also counts the SQL queries of
each request in-process (Django's test client and ``CaptureQueriesContext``, the same views and
middleware as the machine stack plus the staff stack's) on page 1 and the deep page.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.in_process import django_in_process  # noqa: E402

django_in_process()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

from bench.bare_app.referrals import PAGE, fetch_rows, page_rows  # noqa: E402

HOST = "127.0.0.1"


def seed(total: int) -> dict:
    from helpline.services.lines import helpline_ensure
    from referrals.models import Referral
    from referrals.services.api_keys import api_key_create
    from tests.conftest import make_staff
    from tests.referrals.world import referral_sent, referral_world

    line = helpline_ensure(slug="demo", name="Demo line", languages=["en", "fr", "sw"])
    counsellor = make_staff("counsellor", "counsellor", line=line)
    supervisor = make_staff("supervisor", "supervisor", line=line)
    _case, plan = referral_world(counsellor, line)
    sent = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    with connection.cursor() as cursor:
        # Copies of the delivered referral (manual ones: the SOP's one-per-rule constraint does not
        # apply), each changed one second before the next, so the list has a real order to page.
        overrides = {
            "id": "gen_random_uuid()",
            "origin": "'manual'",
            "rule_id": "''",
            "updated_at": "now() - make_interval(secs => %s - n)",
        }
        columns = [field.column for field in Referral._meta.concrete_fields]
        selected = ", ".join(overrides.get(column, column) for column in columns)
        cursor.execute(
            f"INSERT INTO referrals_referral ({', '.join(columns)}) SELECT {selected} "  # noqa: S608
            "FROM referrals_referral, generate_series(1, %s) AS n WHERE id = %s",
            [total, total - 1, sent.pk],
        )
        cursor.execute("UPDATE referrals_referral SET updated_at = now() WHERE id = %s", [sent.pk])
        cursor.execute("ANALYZE referrals_referral")
    key, secret = api_key_create(actor=None, agency=sent.agency, name="Bench", scopes=["read"])
    return {"agency": sent.agency.pk, "fetched": str(sent.pk), "secret": secret}


def server_start(env: dict, app: str = "config.asgi:application") -> tuple[subprocess.Popen, int]:
    """uvicorn serving ``app``, one process, the same flags for the API and the bare baseline."""
    from tests.conftest import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port)]
        + ["--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection(HOST, port, timeout=2)
            probe.request("GET", "/healthz")
            probe.getresponse().read()
            return process, port
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("uvicorn did not start")


class Api:
    """One keep-alive connection; the API's calls carry the key, the bare server's nothing."""

    def __init__(self, port: int, secret: str | None = None):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Accept": "application/json"}
        if secret:
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str) -> dict:
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {body[:300]!r}")
        return json.loads(body)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def orm_page(agency_id, after=None) -> list:
    """The list's own code below HTTP: the selector's queryset as the view narrows it, the cursor's
    filter, the serializer. What bench/cases.py calls the selector level."""
    from referrals.api.serializers import SUMMARY_COLUMNS, ReferralSummarySerializer
    from referrals.models import Agency
    from referrals.selectors import referrals_of_agency

    rows = referrals_of_agency(Agency(pk=agency_id)).select_related(None).values(*SUMMARY_COLUMNS.values())
    if after:
        rows = rows.filter(updated_at__gt=after[0])
    return ReferralSummarySerializer(list(rows.order_by("updated_at", "id")[: PAGE + 1]), many=True).data


def timed(call) -> tuple[float, float]:
    """Wall time and this process's CPU time of one call, in ms (the CPU time of an HTTP call is the client's)."""
    started, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def queries_of(secret: str, path: str) -> int:
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


def p50(values) -> float:
    return statistics.median(values)


def p95(values) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--deep-page", type=int, default=150)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/api.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "test_bench_api"
    old_config = setup_databases(verbosity=0, interactive=False, keepdb=False, serialized_aliases=set())
    servers = []
    try:
        started = time.perf_counter()
        world = seed(args.referrals)
        print(f"seeded {args.referrals} referrals in {time.perf_counter() - started:.0f} s")
        database = connection.settings_dict
        dsn = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        env = {**os.environ, "DATABASE_URL": dsn, "HELPLINE_API_RATE": "1000000/min", "PUBLIC_BASE_URL": "http://x"}
        env.pop("REDIS_URL", None)  # the rate counter in the process's memory: this measures the API, not Redis
        server, port = server_start(env)
        servers.append(server)
        bare_server, bare_port = server_start(
            {**env, "DJANGO_SETTINGS_MODULE": "bench.bare_app.settings"}, "bench.bare_app.asgi:application"
        )
        servers.append(bare_server)
        api, bare = Api(port, world["secret"]), Api(bare_port)

        # The deep page's cursor, by walking once; and the last row before it for the raw SQL.
        first = "/api/v1/referrals/"
        page, seen = api.get(first), 1
        while seen < args.deep_page and page["next"]:
            previous = page
            page, seen = api.get(path_of(page["next"])), seen + 1
        deep = path_of(previous["next"])
        last = previous["results"][-1]
        after = (last["updated_at"], last["id"])
        fetch = f"/api/v1/referrals/{world['fetched']}/"
        bare_first = f"/bench/bare/referrals/?{urlencode({'agency': world['agency']})}"
        cursor_query = {"agency": world["agency"], "after_at": after[0], "after_id": after[1]}
        bare_deep = f"/bench/bare/referrals/?{urlencode(cursor_query)}"
        bare_fetch = f"/bench/bare/referrals/{world['fetched']}/"

        with psycopg.connect(dsn) as raw:
            cursor = raw.cursor()
            assert len(page_rows(cursor, world["agency"])) == PAGE + 1
            deep_ids = [row["id"] for row in api.get(deep)["results"]]
            assert [str(row[0]) for row in page_rows(cursor, world["agency"], after)][:PAGE] == deep_ids, (
                "the raw SQL reads the same rows as the deep page"
            )
            assert [row["id"] for row in bare.get(bare_deep)["results"]] == deep_ids, "so does the bare server"
            assert [str(row["id"]) for row in orm_page(world["agency"], after)][:PAGE] == deep_ids
            api_view, bare_view = api.get(fetch), bare.get(bare_fetch)
            assert api_view["document"] == bare_view["document"], "the bare fetch decrypts the same document"
            work = {
                "first page": {
                    "api": lambda: api.get(first),
                    "bare": lambda: bare.get(bare_first),
                    "orm": lambda: orm_page(world["agency"]),
                    "raw": lambda: page_rows(cursor, world["agency"]),
                },
                "deep page": {
                    "api": lambda: api.get(deep),
                    "bare": lambda: bare.get(bare_deep),
                    "orm": lambda: orm_page(world["agency"], after),
                    "raw": lambda: page_rows(cursor, world["agency"], after),
                },
                "fetch": {
                    "api": lambda: api.get(fetch),
                    "bare": lambda: bare.get(bare_fetch),
                    "raw": lambda: fetch_rows(cursor, world["fetched"]),
                },
            }
            for calls in work.values():  # warm up
                for _ in range(5):
                    for call in calls.values():
                        call()
            times = {name: {kind: [] for kind in calls} for name, calls in work.items()}
            client_cpu = {name: [] for name in work}
            rng = random.Random(20261202)
            for _ in range(args.rounds):
                order = [(name, kind) for name, calls in work.items() for kind in calls]
                rng.shuffle(order)
                for name, kind in order:
                    wall, cpu = timed(work[name][kind])
                    times[name][kind].append(wall)
                    if kind in ("api", "bare"):
                        client_cpu[name].append(cpu)
        counts = {
            "first page": queries_of(world["secret"], first),
            "deep page": queries_of(world["secret"], deep),
            "fetch": queries_of(world["secret"], fetch),
        }
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        connection.close()
        teardown_databases(old_config, verbosity=0)

    print(
        f"\n{args.referrals} referrals of one agency, {args.rounds} rounds, "
        f"page of {PAGE}, deep = page {args.deep_page}; load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'':12} {'HTTP p50':>9} {'HTTP p95':>9} {'bare p50':>9} {'bare p95':>9} {'ORM p50':>9} {'raw p50':>9} "
        f"{'HTTP/raw':>9} {'HTTP/bare':>9} {'bare/raw':>9} {'ORM/raw':>8} {'queries':>8}"
    )
    for name, measured in times.items():
        api_p50, bare_p50, raw_p50 = p50(measured["api"]), p50(measured["bare"]), p50(measured["raw"])
        orm = f"{p50(measured['orm']):7.2f}ms" if "orm" in measured else f"{'-':>9}"
        orm_ratio = f"{p50(measured['orm']) / raw_p50:7.1f}x" if "orm" in measured else f"{'-':>8}"
        print(
            f"{name:12} {api_p50:7.2f}ms {p95(measured['api']):7.2f}ms {bare_p50:7.2f}ms "
            f"{p95(measured['bare']):7.2f}ms {orm} {raw_p50:7.2f}ms "
            f"{api_p50 / raw_p50:8.1f}x {api_p50 / bare_p50:8.1f}x {bare_p50 / raw_p50:8.1f}x {orm_ratio} "
            f"{counts[name]:8d}"
        )
    print(
        "client CPU per HTTP call (send, read, parse the JSON), p50: "
        + ", ".join(f"{name} {p50(cpu):.2f}ms" for name, cpu in client_cpu.items())
        + " (the rest of each HTTP figure is the server's)"
    )
    print("queries per page constant:", counts["first page"] == counts["deep page"], "(in-process, Django test client)")


if __name__ == "__main__":
    main()
