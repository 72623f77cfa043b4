"""The referral API at scale: an agency with 10,000 referrals on PostgreSQL, read through real HTTP.

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpline \
        flock /tmp/bench.lock .venv/bin/python bench/api.py [--referrals 10000] [--rounds 60] [--deep-page 150]

Seeds a throwaway database (``test_bench_api``, Django's test-database machinery, a throwaway key
set): the demo line, agencies and SOP, one sextortion case whose police referral is confirmed,
approved and delivered for real (its document sealed), then ``--referrals - 1`` more referrals
to the same agency copied with plain SQL, each with its own ``updated_at``. Starts uvicorn
(``config.asgi``: ``/api/v1/`` on the machine stack) on that database, makes an API key with the
``read`` scope, and measures in the same interleaved, shuffled rounds over one keep-alive
HTTP connection:

- **first page**: ``GET /api/v1/referrals/`` (50 rows);
- **deep page**: page ``--deep-page`` (its cursor found by walking the pages once beforehand);
- **fetch**: ``GET /api/v1/referrals/{id}/`` of the delivered referral (unseals the document,
  audits the read);

each through HTTP (the whole request: key check, throttle, query, serializer, the ``api.called``
audit write, JSON), for the two list pages also **ORM** (the list's code below HTTP in this
process: the selector's queryset as the view narrows it, the cursor's filter, the serializer),
beside the **raw SQL** for the same rows (a hand-written query, only the columns the answer
has, fetched with a plain psycopg cursor on a warm connection; for the fetch: the referral row
with its sealed document, its events and its questions, nothing decrypted). It also counts the
SQL queries of each request in-process (Django's test client and ``CaptureQueriesContext``, the
same views and middleware as the machine stack plus the staff stack's) on page 1 and the deep page.
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
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.in_process import django_in_process  # noqa: E402

django_in_process()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

HOST = "127.0.0.1"
PAGE = 50
COLUMNS = (
    "r.id, r.status, r.urgency, c.reference, r.external_reference, o.code, r.sent_at, r.acknowledged_at, "
    "r.closed_at, r.updated_at, r.acknowledge_by, r.complete_by"
)


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


def server_start(env: dict) -> tuple[subprocess.Popen, int]:
    from tests.conftest import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", HOST, "--port", str(port)]
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
    def __init__(self, port: int, secret: str):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}

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


def raw_page(cursor, agency, after=None) -> list:
    where = "AND (r.updated_at, r.id) > (%s, %s)" if after else ""
    cursor.execute(
        f"SELECT {COLUMNS} FROM referrals_referral r JOIN cases_case c ON c.id = r.case_id "  # noqa: S608
        "LEFT JOIN referrals_outcomekind o ON o.id = r.outcome_kind_id "
        "WHERE r.agency_id = %s AND r.status = ANY(%s) AND r.sent_at IS NOT NULL "
        f"{where} ORDER BY r.updated_at, r.id LIMIT %s",
        [agency, ["sent", "acknowledged", "accepted", "declined", "closed", "withdrawn"], *(after or ()), PAGE + 1],
    )
    return cursor.fetchall()


def raw_fetch(cursor, referral_id) -> tuple:
    cursor.execute(
        f"SELECT {COLUMNS}, r.document FROM referrals_referral r JOIN cases_case c ON c.id = r.case_id "  # noqa: S608
        "LEFT JOIN referrals_outcomekind o ON o.id = r.outcome_kind_id WHERE r.id = %s",
        [referral_id],
    )
    row = cursor.fetchone()
    cursor.execute(
        "SELECT kind, created_at, via, note, detail FROM referrals_referralevent WHERE referral_id = %s "
        "ORDER BY created_at",
        [referral_id],
    )
    events = cursor.fetchall()
    cursor.execute("SELECT * FROM referrals_referralquestion WHERE referral_id = %s ORDER BY asked_at", [referral_id])
    return row, events, cursor.fetchall()


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


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def queries_of(secret: str, path: str) -> int:
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


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
    server = None
    try:
        started = time.perf_counter()
        world = seed(args.referrals)
        print(f"seeded {args.referrals} referrals in {time.perf_counter() - started:.0f} s")
        database = connection.settings_dict
        dsn = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        env = {**os.environ, "DATABASE_URL": dsn, "HELPLINE_API_RATE": "1000000/min", "PUBLIC_BASE_URL": "http://x"}
        env.pop("REDIS_URL", None)  # the rate counter in the process's memory: this measures the API, not Redis
        server, port = server_start(env)
        api = Api(port, world["secret"])

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

        with psycopg.connect(dsn) as raw:
            cursor = raw.cursor()
            assert len(raw_page(cursor, world["agency"])) == PAGE + 1
            assert [str(row[0]) for row in raw_page(cursor, world["agency"], after)][:PAGE] == [
                row["id"] for row in api.get(deep)["results"]
            ], "the raw SQL reads the same rows as the deep page"
            assert [str(row["id"]) for row in orm_page(world["agency"], after)] == [
                str(row[0]) for row in raw_page(cursor, world["agency"], after)
            ]
            work = {
                "first page": {
                    "api": lambda: api.get(first),
                    "orm": lambda: orm_page(world["agency"]),
                    "raw": lambda: raw_page(cursor, world["agency"]),
                },
                "deep page": {
                    "api": lambda: api.get(deep),
                    "orm": lambda: orm_page(world["agency"], after),
                    "raw": lambda: raw_page(cursor, world["agency"], after),
                },
                "fetch": {"api": lambda: api.get(fetch), "raw": lambda: raw_fetch(cursor, world["fetched"])},
            }
            for calls in work.values():  # warm up
                for _ in range(5):
                    for call in calls.values():
                        call()
            times = {name: {kind: [] for kind in calls} for name, calls in work.items()}
            rng = random.Random(20261202)
            for _ in range(args.rounds):
                order = [(name, kind) for name, calls in work.items() for kind in calls]
                rng.shuffle(order)
                for name, kind in order:
                    times[name][kind].append(timed(work[name][kind]))
        counts = {
            "first page": queries_of(world["secret"], first),
            "deep page": queries_of(world["secret"], deep),
            "fetch": queries_of(world["secret"], fetch),
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        connection.close()
        teardown_databases(old_config, verbosity=0)

    print(
        f"\n{args.referrals} referrals of one agency, {args.rounds} rounds, "
        f"page of {PAGE}, deep = page {args.deep_page}"
    )
    print(
        f"{'':12} {'HTTP p50':>9} {'HTTP p95':>9} {'ORM p50':>9} {'raw p50':>9} {'raw p95':>9} "
        f"{'HTTP/raw':>9} {'ORM/raw':>8} {'queries':>8}"
    )
    for name, measured in times.items():
        api_p50, raw_p50 = statistics.median(measured["api"]), statistics.median(measured["raw"])
        api_p95 = statistics.quantiles(measured["api"], n=20)[-1]
        raw_p95 = statistics.quantiles(measured["raw"], n=20)[-1]
        orm_p50 = statistics.median(measured["orm"]) if "orm" in measured else None
        orm = f"{orm_p50:7.2f}ms" if orm_p50 else f"{'-':>9}"
        orm_ratio = f"{orm_p50 / raw_p50:7.1f}x" if orm_p50 else f"{'-':>8}"
        print(
            f"{name:12} {api_p50:7.2f}ms {api_p95:7.2f}ms {orm} {raw_p50:7.2f}ms {raw_p95:7.2f}ms "
            f"{api_p50 / raw_p50:8.1f}x {orm_ratio} {counts[name]:8d}"
        )
    print("queries per page constant:", counts["first page"] == counts["deep page"], "(in-process, Django test client)")


if __name__ == "__main__":
    main()
