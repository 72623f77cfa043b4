"""The case list at scale: 100,000 cases and 1,000,000 contacts on PostgreSQL, read as a supervisor.

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpline \
        .venv/bin/python bench/cases.py [--cases 100000] [--contacts 1000000] [--rounds 40] [--keep]

Seeds a throwaway database (``test_bench_cases``, Django's test-database machinery, a throwaway
key set) with COPY, printing progress, then measures four pages of the case list as a supervisor
of two of the four lines (about half the cases):

- **first page**: ``/cases/``;
- **filtered page**: ``/cases/?status=in_progress&risk=high``;
- **deep page**: page 500 (its cursor found by walking the pages once beforehand);
- **search by reference**: ``/cases/?q=<reference>``.

Each page is measured three ways in the same interleaved, shuffled rounds:

- **raw SQL**: a hand-written query for the same rows (the line ids already known, only the
  columns the page shows), fetched with a plain cursor: the floor;
- **selector**: ``cases.selectors.lists.case_list_page`` (permission filter in SQL, keyset,
  model instances): goal within 3x raw SQL;
- **page**: the whole request through Django's test client, logged in with both factors
  (middleware, session, template): goal p95 under 100 ms.

and the SQL queries of the whole page are counted on page 1 and page 500 (goal: the same).
``--keep`` keeps the seeded database for the next run (``keepdb``), which then skips seeding.
Data keys are random bytes (nothing is unsealed: the list shows no content).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.in_process import django_in_process  # noqa: E402

django_in_process()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

LINES = ["north", "south", "east", "west"]
SUPERVISED = LINES[:2]
COUNSELLORS_PER_LINE = 12
STATUSES = [("open", 20), ("in_progress", 30), ("pending_closure", 10), ("closed", 30), ("reopened", 10)]
RISKS = [("none", 30), ("low", 30), ("medium", 20), ("high", 15), ("imminent", 5)]
CATEGORIES = [
    "violence.ocsea.sextortion",
    "violence.ocsea.grooming",
    "violence.ocsea.self_generated.coerced",
    "violence.physical",
    "mental_health.anxiety",
    "peer_relationships.bullying",
    "family_relationships.conflict",
]
PAGE_SIZE = 50
DEEP_PAGE = 500
SPAN = timedelta(days=730)
BATCH = 50_000


def weighted(rng, pairs):
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-6)
    print(f"\r  {label}: {done:>9,} / {total:,}  ({rate:,.0f} rows/s)", end="", flush=True)
    if done >= total:
        print()


def copy_rows(model, columns: list[str], rows, *, total: int, label: str) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into ``model``'s table, with progress."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    started, done = time.perf_counter(), 0
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            done += 1
            if done % BATCH == 0 or done == total:
                progress(label, done, total, started)


def defaults_for(model, given: list[str]) -> tuple[list[str], list]:
    """Every other column of ``model`` with its model default, so COPY fills NOT NULL columns."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in given:
            continue
        default = field.get_default()
        if field.get_internal_type() == "JSONField":
            default = json.dumps(default if default is not None else None)
        columns.append(field.column)
        values.append(default)
    return columns, values


def seed(*, cases: int, contacts: int, rng: random.Random) -> dict:
    from cases.models import Case
    from cases.references import ALPHABET, reference_format
    from helpline.models import Contact
    from helpline.services.lines import helpline_ensure
    from helpline.services.staff import staff_create
    from helpline.services.twofactor import totp_device_create
    from helpline.vault.models import DataKey
    from helpline.webchat.services import webchat_endpoint_ensure

    now = datetime.now(UTC)
    lines = {slug: helpline_ensure(slug=slug, name=f"{slug.title()} line", languages=["en"]) for slug in LINES}
    endpoints = {slug: webchat_endpoint_ensure(line=line) for slug, line in lines.items()}
    counsellors = {
        slug: [
            staff_create(username=f"{slug}-c{n}", password="x" * 12, role="counsellor", line_slugs=[slug])
            for n in range(COUNSELLORS_PER_LINE)
        ]
        for slug in LINES
    }
    supervisor = staff_create(username="bench-supervisor", password=PASSWORD, role="supervisor", line_slugs=SUPERVISED)
    totp_device_create(user=supervisor.user, confirmed=True)

    total_keys = cases + contacts
    print(f"seeding {cases:,} cases, {contacts:,} contacts, {total_keys:,} data keys (COPY)")
    key_ids = [uuid.uuid4() for _ in range(total_keys)]
    kek = "bench"
    copy_rows(
        DataKey,
        ["id", "kek_id", "wrapped", "created_at"],
        ((key_id, kek, os.urandom(60), now) for key_id in key_ids),
        total=total_keys,
        label="data keys",
    )

    contact_given = ["id", "data_key_id", "line_id", "endpoint_id", "channel", "status", "arrived_at", "ended_at"]
    extra_columns, extra_values = defaults_for(Contact, contact_given)

    def contact_rows():
        for n in range(contacts):
            slug = LINES[n % len(LINES)]
            arrived = now - SPAN * rng.random()
            yield (
                uuid.uuid4(),
                key_ids[cases + n],
                lines[slug].pk,
                endpoints[slug].pk,
                "webchat",
                "closed",
                arrived,
                arrived + timedelta(minutes=20),
                *extra_values,
            )

    copy_rows(Contact, contact_given + extra_columns, contact_rows(), total=contacts, label="contacts")

    case_given = [
        "reference",
        "line_id",
        "status",
        "risk_level",
        "counsellor_id",
        "created_by_id",
        "categories",
        "data_key_id",
        "created_at",
        "updated_at",
        "last_note_at",
        "closed_at",
    ]
    extra_columns, extra_values = defaults_for(Case, [*case_given, "id"])

    def reference(n: int) -> str:
        body = ""
        for _ in range(7):
            n, digit = divmod(n, len(ALPHABET))
            body += ALPHABET[digit]
        return reference_format(body)

    references = []
    offset = rng.randrange(10**9)

    def case_rows():
        for n in range(cases):
            slug = LINES[n % len(LINES)]
            counsellor = rng.choice(counsellors[slug])
            status = weighted(rng, STATUSES)
            created = now - SPAN * rng.random()
            ref = reference(offset + n * 7919)
            if slug in SUPERVISED and len(references) < 1000:
                references.append(ref)
            yield (
                ref,
                lines[slug].pk,
                status,
                weighted(rng, RISKS),
                counsellor.pk,
                counsellor.pk,
                json.dumps(rng.sample(CATEGORIES, rng.randint(1, 2))),
                key_ids[n],
                created,
                created,
                created + timedelta(hours=rng.randint(1, 400)),
                created + timedelta(days=rng.randint(1, 60)) if status == "closed" else None,
                *extra_values,
            )

    copy_rows(Case, case_given + extra_columns, case_rows(), total=cases, label="cases")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  ANALYZE: {time.perf_counter() - started:.1f} s")
    return {"supervisor": supervisor, "references": references}


PASSWORD = "correct horse battery staple"


def existing_world() -> dict | None:
    from cases.models import Case
    from helpline.models import SealedTOTPDevice, Staff
    from helpline.services.twofactor import totp_device_create

    supervisor = Staff.objects.filter(user__username="bench-supervisor").first()
    if supervisor is None:
        return None
    # The key set is new each run: the kept authenticator device was sealed under the old one.
    SealedTOTPDevice.objects.filter(user=supervisor.user).delete()
    totp_device_create(user=supervisor.user, confirmed=True)
    references = list(
        Case.objects.filter(line__slug__in=SUPERVISED).order_by("pk").values_list("reference", flat=True)[:1000]
    )
    return {"supervisor": supervisor, "references": references}


# --- the measurements ------------------------------------------------------------------------

# The same columns as the selector's rows (cases.selectors.lists.LIST_COLUMNS), the same joins.
RAW_SELECT = (
    "SELECT c.id, c.reference, c.status, c.risk_level, c.created_at, l.name, u.username"
    " FROM cases_case c JOIN helpline_helpline l ON l.id = c.line_id"
    " LEFT JOIN helpline_staff s ON s.id = c.counsellor_id LEFT JOIN auth_user u ON u.id = s.user_id"
)


def raw_page(line_ids, *, where: str = "", params=(), after=None) -> list:
    """The rows of one page by hand-written SQL: the baseline."""
    sql = RAW_SELECT + " WHERE c.line_id = ANY(%s)" + where
    values = [list(line_ids), *params]
    if after is not None:
        sql += " AND (c.created_at, c.id) < (%s, %s)"
        values += list(after)
    sql += " ORDER BY c.created_at DESC, c.id DESC LIMIT %s"
    values.append(PAGE_SIZE + 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchall()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(world: dict, *, rounds: int, rng: random.Random, deep_page: int) -> dict:
    from cases.models import Case
    from cases.pagination import cursor_decode
    from cases.selectors.lists import ORDER, CaseFilters, case_list_page
    from tests.conftest import login_verified

    supervisor = world["supervisor"]
    user = supervisor.user
    line_ids = list(supervisor.lines.values_list("pk", flat=True))
    client = login_verified(Client(), user)

    # Page 500's cursor, found once by walking the pages.
    started = time.perf_counter()
    cursor = None
    for _ in range(deep_page - 1):
        cursor = case_list_page(user, filters=CaseFilters(), cursor=cursor, size=PAGE_SIZE).next_cursor
        if cursor is None:
            raise SystemExit(f"fewer than {deep_page} pages: seed more cases or pass a smaller --deep-page")
    print(f"walked to page {deep_page} in {time.perf_counter() - started:.1f} s")
    deep_after = cursor_decode(cursor, model=Case, order=ORDER)
    references = world["references"]

    def search_reference(i):
        return references[i % len(references)]

    pages = {
        "first page": {
            "query": lambda i: {},
            "filters": lambda i: CaseFilters(),
            "cursor": lambda i: None,
            "raw": lambda i: raw_page(line_ids),
        },
        "filtered page": {
            "query": lambda i: {"status": "in_progress", "risk": "high"},
            "filters": lambda i: CaseFilters(status="in_progress", risk="high"),
            "cursor": lambda i: None,
            "raw": lambda i: raw_page(
                line_ids, where=" AND c.status = %s AND c.risk_level = %s", params=("in_progress", "high")
            ),
        },
        f"deep page ({deep_page})": {
            "query": lambda i: {"after": cursor},
            "filters": lambda i: CaseFilters(),
            "cursor": lambda i: cursor,
            "raw": lambda i: raw_page(line_ids, after=deep_after),
        },
        "search by reference": {
            "query": lambda i: {"q": search_reference(i)},
            "filters": lambda i: CaseFilters(reference=search_reference(i), reference_given=True),
            "cursor": lambda i: None,
            "raw": lambda i: raw_page(line_ids, where=" AND c.reference = %s", params=(search_reference(i),)),
        },
    }

    def run_selector(spec, i):
        page = case_list_page(user, filters=spec["filters"](i), cursor=spec["cursor"](i), size=PAGE_SIZE)
        return len(page.items)

    def run_page(spec, i):
        response = client.get("/cases/", spec["query"](i))
        assert response.status_code == 200, response.status_code
        return response

    # Same rows and columns from every variant (checked once, outside the timings); the raw SQL has
    # no break-glass clause because this supervisor holds no grant (the selector's finds nothing).
    for name, spec in pages.items():
        raw_rows = [tuple(row) for row in spec["raw"](0)][:PAGE_SIZE]
        page = case_list_page(user, filters=spec["filters"](0), cursor=spec["cursor"](0), size=PAGE_SIZE)
        assert raw_rows == [tuple(row) for row in page.items], f"{name}: the raw SQL and the selector disagree"
        assert raw_rows, f"{name}: no rows"

    queries = {}
    for name in ("first page", f"deep page ({deep_page})"):
        run_page(pages[name], 0)
        with CaptureQueriesContext(connection) as captured:
            run_page(pages[name], 0)
        queries[name] = len(captured.captured_queries)

    variants = [(name, kind) for name in pages for kind in ("raw SQL", "selector", "page")]
    samples = {variant: [] for variant in variants}
    for i in range(5):  # warm-up
        for spec in pages.values():
            spec["raw"](i)
            run_selector(spec, i)
            run_page(spec, i)
    for round_number in range(rounds):
        order = list(variants)
        rng.shuffle(order)
        for name, kind in order:
            spec = pages[name]
            started = time.perf_counter()
            if kind == "raw SQL":
                spec["raw"](round_number)
            elif kind == "selector":
                run_selector(spec, round_number)
            else:
                run_page(spec, round_number)
            samples[(name, kind)].append((time.perf_counter() - started) * 1000)
    return {"samples": samples, "queries": queries, "pages": list(pages)}


def report(result: dict, *, cases: int, contacts: int, rounds: int) -> None:
    samples = result["samples"]
    print(f"\ncase list as a supervisor of 2 of 4 lines: {cases:,} cases, {contacts:,} contacts, {rounds} rounds")
    print(f"  {'page':22s} {'raw SQL p50':>11s} {'selector p50':>12s} {'x raw':>6s} {'page p50':>9s} {'page p95':>9s}")
    for name in result["pages"]:
        raw = statistics.median(samples[(name, "raw SQL")])
        selector = statistics.median(samples[(name, "selector")])
        page = samples[(name, "page")]
        print(
            f"  {name:22s} {raw:9.2f}ms {selector:10.2f}ms {selector / raw:6.2f}"
            f" {statistics.median(page):7.2f}ms {percentile(page, 0.95):7.2f}ms"
        )
    print("  SQL queries per page: " + ", ".join(f"{name} {count}" for name, count in result["queries"].items()))
    print("goals: selector within 3x raw SQL; page p95 under 100 ms; the same queries on page 1 and page 500")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--deep-page", type=int, default=DEEP_PAGE, help="which page is the deep one")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database (and reuse it next time)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/cases.py needs PostgreSQL (DATABASE_URL=postgres://...)")

    connection.settings_dict.setdefault("TEST", {})["NAME"] = "test_bench_cases"
    # No setup_test_environment(): it instruments template rendering (a context copy per
    # template for the test client), which is not what a real request pays.
    old_config = setup_databases(verbosity=0, interactive=False, keepdb=args.keep, serialized_aliases=set())
    rng = random.Random(20261202)
    try:
        world = existing_world() if args.keep else None
        if world is None:
            started = time.perf_counter()
            world = seed(cases=args.cases, contacts=args.contacts, rng=rng)
            print(f"seeded in {time.perf_counter() - started:.0f} s")
        else:
            print("reusing the seeded database (--keep)")
        result = measure(world, rounds=args.rounds, rng=rng, deep_page=args.deep_page)
    finally:
        if not args.keep:
            teardown_databases(old_config, verbosity=0)
    report(result, cases=args.cases, contacts=args.contacts, rounds=args.rounds)


if __name__ == "__main__":
    main()
