"""The signed webhook against a receiver on 127.0.0.1: signature, idempotency key, what each answer means,
and nothing protected in errors or logs."""

import json
import logging
import time

import pytest

from helpline.outbox import DeliveryError
from integrations.webhook.signing import signature_compute, signature_verify
from integrations.webhook.transport import WebhookTransport
from referrals.transports import transport_get
from tests.fakes.http import Reply
from tests.integrations.referral_documents import PROTECTED, full_document, minimal_document
from tests.integrations.webhook.conftest import PATH, SECRET

TRANSPORT = WebhookTransport()


def test_the_webhook_is_registered_under_its_code():
    assert isinstance(transport_get("webhook"), WebhookTransport)


def test_the_receiver_gets_the_document_signed_over_timestamp_and_body_with_the_idempotency_key(receiver):
    receipt = TRANSPORT.deliver(receiver.request_for(key="delivery-7"))
    [request] = receiver.server.requests_to("POST", PATH)
    assert request.json() == full_document()
    assert request.headers["Idempotency-Key"] == "delivery-7"
    assert request.headers["Content-Type"].startswith("application/json")
    timestamp = request.headers["X-Helpline-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 600
    assert request.headers["X-Helpline-Signature"] == signature_compute(
        secret=SECRET, timestamp=timestamp, body=request.body
    )
    assert request.body == TRANSPORT.render(receiver.request_for(key="delivery-7")).body  # exactly what render shows
    assert receipt.external_reference == "AG-1" and not receipt.acknowledged


def test_a_synchronous_acknowledgement_is_reported(receiver):
    receiver.acknowledge = True
    assert TRANSPORT.deliver(receiver.request_for()).acknowledged


def test_a_retry_carries_the_same_key_so_the_receiver_keeps_one_referral(receiver):
    receiver.server.fail_first(2, "POST", PATH)
    for _attempt in range(2):
        with pytest.raises(DeliveryError) as failed:
            TRANSPORT.deliver(receiver.request_for(key="delivery-9"))
        assert not failed.value.permanent and failed.value.code == "503"
    TRANSPORT.deliver(receiver.request_for(key="delivery-9"))
    TRANSPORT.deliver(receiver.request_for(key="delivery-9"))  # the worker died before recording it: sent again
    keys = {request.headers["Idempotency-Key"] for request in receiver.server.requests_to("POST", PATH)}
    assert keys == {"delivery-9"} and len(receiver.referrals) == 1


def test_a_forged_or_stale_signature_fails_verification():
    body = json.dumps(minimal_document()).encode()
    now = time.time()
    timestamp = str(int(now))
    good = signature_compute(secret=SECRET, timestamp=timestamp, body=body)
    assert signature_verify(secret=SECRET, timestamp=timestamp, signature=good, body=body, now=now)
    assert not signature_verify(secret="another-secret-0123456789", timestamp=timestamp, signature=good, body=body)
    assert not signature_verify(secret=SECRET, timestamp=timestamp, signature=good, body=body + b" ", now=now)
    assert not signature_verify(secret=SECRET, timestamp=timestamp, signature=good, body=body, now=now + 301)
    assert not signature_verify(secret=SECRET, timestamp="later", signature=good, body=body, now=now)


def test_a_receiver_holding_another_secret_refuses_and_that_is_permanent(receiver):
    with pytest.raises(DeliveryError) as failed:
        TRANSPORT.deliver(receiver.request_for(secret="not-the-receivers-secret-000"))
    assert failed.value.permanent and failed.value.code == "401"
    assert receiver.refused_signatures == 1 and not receiver.referrals


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        (400, True),
        (403, True),
        (404, True),
        (422, True),
        (301, True),
        (408, False),
        (429, False),
        (500, False),
        (502, False),
        (503, False),
    ],
)
def test_what_each_answer_means(fake_http, status, permanent):
    server = fake_http()
    server.route("POST", "/hook", Reply(status, json={"error": f"we could not store {full_document()['child']}"}))
    with pytest.raises(DeliveryError) as failed:
        TRANSPORT.deliver(
            _request(url=server.url + "/hook"),
        )
    assert failed.value.permanent is permanent
    assert str(status) in failed.value.reason
    assert not any(value in failed.value.reason for value in PROTECTED)  # the receiver's text is never repeated


def test_a_timeout_and_a_dropped_connection_are_retried(fake_http, monkeypatch):
    monkeypatch.setattr("integrations.webhook.transport.TIMEOUT_SECONDS", 0.5)
    server = fake_http()
    server.route("POST", "/slow", Reply(delay=2))
    server.route("POST", "/gone", Reply(drop=True))
    for path, code in (("/slow", "timeout"), ("/gone", "network")):
        with pytest.raises(DeliveryError) as failed:
            TRANSPORT.deliver(_request(url=server.url + path))
        assert not failed.value.permanent and failed.value.code == code


def test_redirects_are_not_followed(fake_http):
    server = fake_http()
    server.route("POST", "/old", Reply(307, headers={"Location": server.url + "/new"}))
    with pytest.raises(DeliveryError) as failed:
        TRANSPORT.deliver(_request(url=server.url + "/old"))
    assert failed.value.permanent
    assert server.requests_to("POST", "/new") == []


def test_an_odd_reference_from_the_receiver_is_not_kept(fake_http):
    server = fake_http()
    server.route("POST", "/hook", Reply(200, json={"reference": "<script>alert(1)</script>"}))
    assert TRANSPORT.deliver(_request(url=server.url + "/hook")).external_reference == ""
    server.route("POST", "/plain", Reply(204))
    assert TRANSPORT.deliver(_request(url=server.url + "/plain")).external_reference == ""


@pytest.mark.parametrize(
    ("url", "secret", "problem"),
    [
        ("http://agency.example/hook", SECRET, "https://"),
        ("https://user:pw@agency.example/hook", SECRET, "user name or password"),
        ("", SECRET, "Enter the receiver's address"),
        ("https://agency.example/hook", "short", "signing secret"),
    ],
)
def test_an_unusable_configuration_is_explained_and_refused_permanently(url, secret, problem):
    problems = TRANSPORT.validate_config({"url": url}, {"signing_secret": secret})
    assert any(problem in text for text in problems)
    with pytest.raises(DeliveryError) as failed:
        TRANSPORT.deliver(_request(url=url, secret=secret))
    assert failed.value.permanent and failed.value.code == "config"
    assert secret not in failed.value.reason


def test_https_and_loopback_addresses_are_accepted():
    assert TRANSPORT.validate_config({"url": "https://agency.example/hook"}, {"signing_secret": SECRET}) == []
    assert TRANSPORT.validate_config({"url": "http://127.0.0.1:9/hook"}, {"signing_secret": SECRET}) == []


def test_logs_carry_the_key_and_status_never_the_document_or_the_secret(receiver, fake_http, caplog):
    caplog.set_level(logging.DEBUG)
    TRANSPORT.deliver(receiver.request_for(key="delivery-log"))
    server = fake_http()
    server.route("POST", "/hook", Reply(500))
    with pytest.raises(DeliveryError):
        TRANSPORT.deliver(_request(url=server.url + "/hook"))
    text = caplog.text
    assert "delivery-log" in text
    for value in [*PROTECTED, SECRET]:
        assert value not in text


def _request(*, url, secret=SECRET):
    from referrals.transports import DeliveryRequest

    return DeliveryRequest(
        document=full_document(), idempotency_key="delivery-x", config={"url": url}, secrets={"signing_secret": secret}
    )


def test_no_proxy_from_the_environment_decides_where_the_referral_goes(fake_http, monkeypatch):
    """Like NCMEC, IWF and CPIMS: a proxy (or .netrc) set in the worker's environment never sees a referral."""
    server, proxy = fake_http(), fake_http()
    server.route("POST", "/hook", Reply(204))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    TRANSPORT.deliver(_request(url=server.url + "/hook"))
    assert proxy.requests == [] and len(server.requests_to("POST", "/hook")) == 1


def test_deliveries_reuse_one_connection_and_carry_no_cookie_a_receiver_set(fake_http):
    """The worker thread's keep-alive session keeps connections only: a cookie set by a receiver never rides
    along on the next referral (to it or to anyone)."""
    server = fake_http()
    server.route("POST", "/hook", Reply(201, json={}, headers={"Set-Cookie": "tracker=1; Path=/"}))
    for _ in range(3):
        TRANSPORT.deliver(_request(url=server.url + "/hook"))
    requests = server.requests_to("POST", "/hook")
    assert len({request.client for request in requests}) == 1  # one TCP connection for the three
    assert all("Cookie" not in request.headers for request in requests)
