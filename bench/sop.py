"""What evaluating a line's SOP adds to saving a case: an SOP of 200 rules against one case's facts.

    .venv/bin/python bench/sop.py [--rules 200] [--rounds 40] [--per-round 50]

Runs in a throwaway PostgreSQL database (Django's test-database machinery, named
``test_bench_sop``; DATABASE_URL, default postgres://postgres@127.0.0.1:5432/helpline)
with a throwaway key set. Compares, in interleaved rounds so that machine noise hits
both sides alike:

- case save: ``cases.services.cases.case_facts_update`` changing a case's risk level and
  categories (lock, checks, save, audit event): the save after which
  ``case_facts_changed`` fires. Receivers of that signal are disconnected while timing,
  so the save is the save alone;
- evaluation: ``evaluate(facts, sop)`` over 200 rules, the parsed SOP in memory (as the
  listener holds it: ``sop_active_for`` caches it per process and version);
- evaluation + SOP lookup: the same plus ``sop_active_for(line)`` (one indexed query);
- for information, the listener's read of the facts, ``cases.selectors.case_facts(case)``
  (the cases app's cost, three queries).

One-off costs are printed for information: checking and parsing the 200-rule document
(the editor's check as one types, and the first evaluation after an activation).

The rules are generated with a fixed seed from the same vocabulary as real SOPs:
category codes with descendants, risk levels, ages, channels, regions, the presence of
facts, combinators (any / not), and one to three actions each. About one rule in ten
fires for the benchmark's case, as in a long national SOP where a case meets a few
pathways. Goal: evaluation under 5% of the case save.
"""

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.in_process import django_in_process  # noqa: E402

django_in_process()

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

TAXONOMY = ROOT / "cases" / "taxonomy" / "chi-2026.1.yaml"


def taxonomy_codes(document: dict) -> tuple[list[str], list[str]]:
    """The taxonomy's leaf codes and its parents (codes with children)."""
    leaves, parents = [], []

    def walk(items):
        for item in items:
            (parents if item.get("children") else leaves).append(item["code"])
            walk(item.get("children") or ())

    walk(document["categories"])
    return leaves, parents


REGIONS = ["KE-047", "KE-001", "KE-022", "KE-030", "KE"]


def generated_sop(count: int, codes: list[str], parents: list[str], seed: int = 20261202) -> str:
    """``count`` rules of the shapes real SOPs use, as YAML (JSON is YAML)."""
    rng = random.Random(seed)
    # Online abuse is what most rules of a helpline's SOP are about.
    codes = [code for code in codes if code.startswith("violence.ocsea")] * 3 + codes

    def leaf():
        kind = rng.randrange(9)
        if kind == 0:
            return {"categories_any": sorted(set(rng.sample(codes + parents, rng.randint(1, 3))))}
        if kind == 1:
            return {"risk_at_least": rng.choice(["medium", "high", "imminent"])}
        if kind == 2:
            return {"risk_level": rng.sample(["low", "medium", "high", "imminent"], 2)}
        if kind == 3:
            return {"child_age_under": rng.choice([10, 13, 16, 18])}
        if kind == 4:
            return {"age_band": rng.sample(["6-9", "10-12", "13-15", "16-17"], 2)}
        if kind == 5:
            return {"channel": rng.sample(["sms", "whatsapp", "webchat", "phone"], 2)}
        if kind == 6:
            return {"region": rng.sample(REGIONS, 2)}
        if kind == 7:
            return {"has": rng.sample(["incident.urls", "incident.imagery", "incident.immediate_danger"], 1)}
        return {"caller_type": rng.sample(["child", "adult_about_child", "professional"], 2)}

    def when():
        first = {"categories_any": sorted(set(rng.sample(codes, rng.randint(1, 3))))}
        shape = rng.randrange(4)
        if shape == 0:
            return {**first, **leaf()}
        if shape == 1:
            return {"all": [first, {"any": [leaf(), leaf()]}]}
        if shape == 2:
            return {"all": [first, leaf(), {"not": leaf()}]}
        return first

    def action():
        kind = rng.randrange(5)
        if kind == 0:
            return {"notify": rng.sample(["supervisors", "on_call"], rng.randint(1, 2))}
        if kind == 1:
            return {"offer": "report_remove"}
        target = (
            {"agency": rng.choice(["iwf", "ncmec", "ke-police-dcs"])}
            if kind == 2
            else {"agency_kind": rng.choice(["police", "social_services", "health"]), "jurisdiction": "case"}
        )
        return {
            "refer": target,
            "due_within": rng.choice(["1h", "24h", "3d"]),
            "consent": rng.choice(["required", "not_required", "override_allowed"]),
            "needs_approval": rng.random() < 0.3,
            "share": rng.sample(["child.age_band", "child.name", "incident.summary", "incident.urls", "categories"], 3),
        }

    rules = [
        {"id": f"rule-{number:03d}", "when": when(), "then": [action() for _ in range(rng.randint(1, 3))]}
        for number in range(count)
    ]
    return json.dumps({"sop": "bench", "rules": rules}, indent=1)


FACTS = {
    "case_id": 1,
    "line": "bench",
    "taxonomy_version": None,
    "channel": "webchat",
    "channels": ["webchat", "sms"],
    "categories": ["violence.ocsea.sextortion", "mental_health.anxiety"],
    "risk_level": "high",
    "caller_type": "child",
    "age_band": "13-15",
    "age": 14,
    "gender": "girl",
    "region": "KE-047",
    "child_wants": ["talk", "report"],
    "incident": {"platform": "instagram", "urls_reported": True, "imagery_exists": True, "immediate_danger": False},
    "people": [
        {
            "id": "p1",
            "role": "alleged_perpetrator",
            "relationship": "stranger_online",
            "age_band": "18+",
            "region": None,
            "is_caregiver": False,
        }
    ],
    "perpetrator_is_caregiver": False,
}


def timed(operation, repeat: int) -> float:
    started = time.perf_counter()
    for i in range(repeat):
        operation(i)
    return (time.perf_counter() - started) / repeat * 1e6


def run(*, rules: int, rounds: int, per_round: int) -> dict:
    from cases.models import Case
    from cases.selectors import case_facts
    from cases.services.cases import case_facts_update
    from cases.services.taxonomy import taxonomy_document_load, taxonomy_import
    from cases.signals import case_facts_changed
    from helpline.services.lines import helpline_ensure
    from helpline.services.staff import staff_create
    from helpline.vault.services import datakey_create
    from referrals.sop.document import sop_check, sop_parse
    from referrals.sop.engine import evaluate
    from referrals.sop.selectors import sop_active_for
    from referrals.sop.services import sop_import

    document = taxonomy_document_load(TAXONOMY)
    taxonomy = taxonomy_import(actor=None, document=document, activate=True)
    line = helpline_ensure(slug="bench", name="Bench line", languages=["en"])
    staff = staff_create(username="bench", password="bench bench bench", role="counsellor", line_slugs=["bench"])
    text = generated_sop(rules, *taxonomy_codes(document))
    started = time.perf_counter()
    errors = sop_check(text)
    check_ms = (time.perf_counter() - started) * 1e3
    assert errors == [], errors[:3]
    sop_import(actor=None, line=line, text=text, activate=True)
    started = time.perf_counter()
    sop = sop_parse(text)
    parse_ms = (time.perf_counter() - started) * 1e3
    case = Case.objects.create(
        line=line, created_by=staff, counsellor=staff, data_key=datakey_create(), taxonomy_version=taxonomy
    )
    # The save alone: whatever listens to case_facts_changed (the referrals listener) is not timed here.
    for receiver in list(case_facts_changed.receivers):
        case_facts_changed.receivers.remove(receiver)
    case_facts_changed.sender_receivers_cache.clear()

    risks = ["medium", "high"]
    categories = [["violence.ocsea.sextortion"], ["violence.ocsea.sextortion", "mental_health.anxiety"]]
    known = {code for pair in categories for code in pair}
    assert known <= set(taxonomy.categories.values_list("code", flat=True)), "codes missing from the taxonomy"

    def case_save(i):
        case_facts_update(actor=staff, case=case, risk_level=risks[i % 2], categories=categories[i % 2])

    def evaluation(i):
        return evaluate(FACTS, sop)

    def evaluation_with_lookup(i):
        return evaluate(FACTS, sop_active_for(line))

    def facts_read(i):
        return case_facts(case)

    fired = {proposal.rule_id for proposal in evaluate(FACTS, sop)}
    proposals = len(evaluate(FACTS, sop))
    operations = {
        "case save": case_save,
        "evaluation": evaluation,
        "evaluation + SOP lookup": evaluation_with_lookup,
        "case_facts (cases, info)": facts_read,
    }
    for operation in operations.values():
        timed(operation, 30)  # warm up: connection, caches, the parsed SOP
    samples = {name: [] for name in operations}
    rng = random.Random(1)
    for _ in range(rounds):
        order = list(operations.items())
        rng.shuffle(order)
        for name, operation in order:
            samples[name].append(timed(operation, per_round))
    return {"samples": samples, "check_ms": check_ms, "parse_ms": parse_ms, "fired": len(fired), "proposals": proposals}


def report(result: dict, *, rules: int, rounds: int, per_round: int) -> None:
    samples = result["samples"]
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"SOP evaluation benchmark on {connection.vendor}: {rules} rules, {rounds} rounds x {per_round} operations")
    print(f"  the case meets {result['fired']} rules, {result['proposals']} proposals")
    for name, value in medians.items():
        print(f"  {name:26s} {value:9.1f} us/op (median of rounds)")
    for name in ("evaluation", "evaluation + SOP lookup", "case_facts (cases, info)"):
        per_round = statistics.median(e / s for e, s in zip(samples[name], samples["case save"], strict=True))
        print(f"  {name} / case save: {medians[name] / medians['case save']:.1%} (per-round median {per_round:.1%})")
    print(f"one-off: check of the document {result['check_ms']:.0f} ms, parse {result['parse_ms']:.0f} ms")
    print("goal: evaluation under 5% of a case save")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--per-round", type=int, default=50)
    args = parser.parse_args()

    connection.settings_dict.setdefault("TEST", {})["NAME"] = "test_bench_sop"
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        result = run(rules=args.rules, rounds=args.rounds, per_round=args.per_round)
    finally:
        teardown_databases(old_config, verbosity=0)
    report(result, rules=args.rules, rounds=args.rounds, per_round=args.per_round)


if __name__ == "__main__":
    main()
