"""Referral delivery throughput: the referral outbox beside a bare HTTP client, same receiver, same run.

The SOP benchmark's delivery half (bench/sop.py is the evaluation half).

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpline \
        .venv/bin/python bench/sop_delivery.py [--referrals 200] [--rounds 5]

Seeds a throwaway database (``test_<name>``, Django's test-database machinery, a throwaway key
set) with the demo taxonomy, agencies and SOP and one sextortion case, and queues ``--referrals``
police referrals per round (each with its sealed document and its ``Delivery``) to a signed
webhook receiver on 127.0.0.1 that checks every signature and answers 201. Then, in interleaved
rounds, it measures:

- **outbox**: ``referrals.outbox.delivery_attempt`` for each delivery, one after the other in one
  worker (claim with SKIP LOCKED, unseal the document and the agency's secret, sign, POST,
  record the outcome and the referral's event, audit);
- **bare client**: ``requests.post`` of the same bodies with the same signed headers to the
  same receiver, nothing else: the ceiling.

Goal: the outbox delivers at least 80% as many referrals per second as the bare client.
The evaluation half (an SOP of 200 rules as a share of a case save) is bench/sop.py.
"""

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.in_process import django_in_process  # noqa: E402

django_in_process()

import requests  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402


def seed():
    from helpline.services.lines import helpline_ensure
    from referrals.services.agencies import agency_update
    from tests.conftest import make_staff
    from tests.referrals.world import referral_world

    line = helpline_ensure(slug="demo", name="Demo line", languages=["en", "fr", "sw"])
    counsellor = make_staff("counsellor", "counsellor", line=line)
    case, plan = referral_world(counsellor, line)
    return counsellor, case, plan["ke-police-nairobi"].agency, agency_update


def queue(*, case, agency, count: int, counsellor) -> list:
    """``count`` queued referrals of the case to the agency, each with its sealed document and delivery."""
    from referrals.models import Delivery
    from referrals.services.referrals import referral_confirm, referral_consent_record, referral_manual_create

    deliveries = []
    for _ in range(count):
        referral = referral_manual_create(
            actor=counsellor, case=case, agency=agency, reason="Benchmark", consent_rule="required"
        )
        referral_confirm(actor=counsellor, referral=referral)
        referral_consent_record(actor=counsellor, referral=referral, by="child", method="verbal")
        deliveries.append(Delivery.objects.select_related("referral__case__data_key").get(referral_id=referral.pk))
    return deliveries


def bare_requests(deliveries, url: str, secret: str) -> list:
    """The same bodies and signed headers the transport sends, prepared before the clock starts."""
    from helpline.vault.services import unseal

    prepared = []
    for delivery in deliveries:
        body = unseal(delivery.referral, "document").encode("utf-8")
        prepared.append((str(uuid.uuid4()), body))
    return prepared


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from integrations.webhook.signing import signature_headers
    from referrals.outbox import delivery_attempt
    from tests.fakes.http import fake_http_servers
    from tests.integrations.webhook.conftest import PATH, SECRET, Receiver

    old = setup_databases(verbosity=0, interactive=False)
    try:
        with fake_http_servers() as start:
            server = start()
            receiver = Receiver(server=server)
            server.route("POST", PATH, receiver.handle)
            counsellor, case, agency, agency_update = seed()
            agency_update(
                actor=None,
                agency=agency,
                transport="webhook",
                transport_config={"url": receiver.url},
                secrets={"signing_secret": SECRET},
            )
            outbox_rates, bare_rates = [], []
            for round_number in range(1, args.rounds + 1):
                deliveries = queue(case=case, agency=agency, count=args.referrals, counsellor=counsellor)
                bodies = bare_requests(deliveries, receiver.url, SECRET)
                started = time.perf_counter()
                for key, body in bodies:
                    headers = {
                        "Content-Type": "application/json; charset=utf-8",
                        "Idempotency-Key": key,
                        **signature_headers(secret=SECRET, body=body),
                    }
                    response = requests.post(receiver.url, data=body, headers=headers, timeout=15)
                    assert response.status_code == 201, response.status_code
                bare = len(bodies) / (time.perf_counter() - started)
                started = time.perf_counter()
                for delivery in deliveries:
                    assert delivery_attempt(delivery_id=delivery.pk) == "sent"
                outbox = len(deliveries) / (time.perf_counter() - started)
                bare_rates.append(bare)
                outbox_rates.append(outbox)
                print(
                    f"round {round_number}: outbox {outbox:7.1f}/s  bare client {bare:7.1f}/s  "
                    f"ratio {outbox / bare:5.2f}"
                )
            outbox, bare = statistics.median(outbox_rates), statistics.median(bare_rates)
            print(
                f"\nmedian of {args.rounds} rounds of {args.referrals}: outbox {outbox:.1f} referrals/s, "
                f"bare client {bare:.1f} requests/s, ratio {outbox / bare:.2f} (goal >= 0.80)"
            )
            print(
                f"receiver holds {len(receiver.referrals)} referrals, refused {receiver.refused_signatures} signatures"
            )
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
