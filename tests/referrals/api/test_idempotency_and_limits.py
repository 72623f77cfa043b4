"""Idempotent writes (Idempotency-Key) and the rate limit of each key."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import IdempotentRequest, ReferralEvent, ReferralQuestion
from referrals.services.api_keys import idempotent_requests_expire
from tests.referrals.api.conftest import ApiClient, make_key, problem_of

pytestmark = pytest.mark.django_db


def test_the_same_request_again_is_answered_the_same_and_done_once(api_a, referral_a):
    url = f"/api/v1/referrals/{referral_a.pk}/questions/"
    headers = {"Idempotency-Key": "ask-1"}
    first = api_a.post(url, {"text": "Is she safe?"}, headers=headers)
    again = api_a.post(url, {"text": "Is she safe?"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert ReferralQuestion.objects.filter(referral=referral_a).count() == 1
    # Without the header, or with another key, it is a new request.
    api_a.post(url, {"text": "Is she safe?"}, headers={"Idempotency-Key": "ask-2"})
    assert ReferralQuestion.objects.filter(referral=referral_a).count() == 2


def test_the_same_key_for_another_request_is_refused(api_a, referral_a):
    base = f"/api/v1/referrals/{referral_a.pk}/"
    api_a.post(base + "questions/", {"text": "Is she safe?"}, headers={"Idempotency-Key": "k"})
    problem = problem_of(api_a.post(base + "questions/", {"text": "Other"}, headers={"Idempotency-Key": "k"}), 422)
    assert problem["type"] == "urn:helpline:problem:idempotency-key-reused"
    problem_of(api_a.post(base + "acknowledge/", {}, headers={"Idempotency-Key": "k"}), 422)
    assert ReferralQuestion.objects.filter(referral=referral_a).count() == 1
    assert ReferralEvent.objects.filter(referral=referral_a, kind="acknowledged").count() == 0


def test_keys_are_per_api_key(api_a, referral_a):
    other = ApiClient(make_key(referral_a.agency, name="Second system")[1])
    url = f"/api/v1/referrals/{referral_a.pk}/questions/"
    api_a.post(url, {"text": "One"}, headers={"Idempotency-Key": "same"})
    assert other.post(url, {"text": "Two"}, headers={"Idempotency-Key": "same"}).status_code == 200
    assert ReferralQuestion.objects.filter(referral=referral_a).count() == 2


def test_a_refused_request_is_not_kept_so_it_can_be_sent_again(api_a, referral_a):
    base = f"/api/v1/referrals/{referral_a.pk}/"
    api_a.post(base + "decline/", {"reason": "Not ours"})
    problem_of(api_a.post(base + "acknowledge/", headers={"Idempotency-Key": "ack"}), 409)
    assert not IdempotentRequest.objects.exists()
    problem_of(api_a.post(base + "acknowledge/", headers={"Idempotency-Key": "ack"}), 409)


def test_a_bad_idempotency_key_is_a_validation_problem(api_a, referral_a):
    problem = problem_of(
        api_a.post(f"/api/v1/referrals/{referral_a.pk}/acknowledge/", headers={"Idempotency-Key": "x" * 300}), 400
    )
    assert problem["errors"][0]["pointer"] == "#/Idempotency-Key"


def test_kept_answers_expire_and_the_periodic_job_forgets_them(api_a, referral_a):
    from helpline.periodic import periodic_jobs

    assert "referrals.idempotency_expire" in {job.name for job in periodic_jobs()}
    url = f"/api/v1/referrals/{referral_a.pk}/questions/"
    api_a.post(url, {"text": "One"}, headers={"Idempotency-Key": "old"})
    IdempotentRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # a day passes
    # An expired key is free again, even before the job ran.
    assert "Idempotent-Replayed" not in api_a.post(url, {"text": "Two"}, headers={"Idempotency-Key": "old"})
    assert ReferralQuestion.objects.filter(referral=referral_a).count() == 2
    IdempotentRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotent_requests_expire() == 1
    assert not IdempotentRequest.objects.exists()


def test_each_key_has_its_own_rate_limit(settings, api_a, api_b, referral_a, referral_b):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"}}
    for _ in range(3):
        assert api_a.get("/api/v1/referrals/").status_code == 200
    response = api_a.get("/api/v1/referrals/")
    problem = problem_of(response, 429)
    assert problem["type"] == "urn:helpline:problem:rate-limited"
    assert 0 < int(response["Retry-After"]) <= 60
    assert api_b.get("/api/v1/referrals/").status_code == 200  # another key is not slowed


def test_refused_scopes_spend_the_rate_so_refusals_cannot_flood_the_audit_trail(settings, referral_a):
    from helpline.audit.models import AuditEvent

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"}}
    _key, secret = make_key(referral_a.agency, scopes=["read"])
    reader = ApiClient(secret)
    url = f"/api/v1/referrals/{referral_a.pk}/acknowledge/"
    statuses = [reader.post(url, {}).status_code for _ in range(10)]
    assert statuses == [403] * 3 + [429] * 7
    # The refusals under the rate are audited one by one; over it, once a minute for the key.
    assert reader.get("/api/v1/referrals/").status_code == 429
    audited = AuditEvent.objects.filter(action="api.called").values_list("details__status", flat=True)
    assert sorted(audited) == [403, 403, 403, 429]


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_do_the_write_once(referral_a, key_a):
    """The second waits on the first's Idempotency-Key row, then replays its answer; its write never runs."""
    import threading

    from django.db import connection

    from referrals.services.agency_side import referral_question_ask
    from referrals.services.api_keys import Answer, api_idempotent_call

    key = key_a[0]
    first_wrote, release = threading.Event(), threading.Event()
    answers = {}

    def ask(number, wait=False):
        def call():
            referral_question_ask(agency=key.agency, actor=None, referral=referral_a, text="Safe?", via="api:x")
            if wait:
                first_wrote.set()
                release.wait(30)
            return Answer(200, {"asked_by": number})

        return call

    def send(number, wait):
        try:
            answers[number] = api_idempotent_call(api_key=key, key="once", fingerprint="same", call=ask(number, wait))
        finally:
            connection.close()

    first = threading.Thread(target=send, args=(1, True))
    first.start()
    assert first_wrote.wait(30)
    second = threading.Thread(target=send, args=(2, False))
    second.start()
    # Until the second request waits on the first's row lock (seen by PostgreSQL, not by a clock).
    for _ in range(300):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                break
        threading.Event().wait(0.05)
    release.set()
    first.join(30)
    second.join(30)
    assert answers[1] == Answer(200, {"asked_by": 1})
    assert answers[2] == Answer(200, {"asked_by": 1}, replayed=True)
    assert ReferralQuestion.objects.filter(referral=referral_a).count() == 1
