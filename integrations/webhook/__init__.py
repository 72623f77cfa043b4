"""The signed webhook: a referral POSTed as JSON to an agency's own system, as one self-contained Django app.

What it does (receivers: docs/WEBHOOK.md):

- ``transport.WebhookTransport`` (code ``webhook``): one POST of the canonical referral
  document (cut to the agency's fields) to the agency's ``url``, with
  ``Idempotency-Key`` (the same on every attempt of one delivery, so a retry is never a
  second referral) and an HMAC-SHA256 signature over timestamp and body
  (``X-Helpline-Timestamp``, ``X-Helpline-Signature``) under the agency's sealed
  ``signing_secret``. 2xx is delivered (a JSON answer may carry the receiver's
  ``reference`` and ``"acknowledged": true``); 408, 429, 5xx, time-outs and network
  errors are retried by the referral outbox; any other answer is a permanent failure.
- ``signing``: the signature, and its verification (what a receiver does; the tests
  and the example in docs/WEBHOOK.md use it).

Modules: ``apps`` (ready: registers the transport), ``signing``, ``transport``. It has no
views, no models and no audit actions of its own: the referral outbox records each attempt.

How it plugs in: ``settings.INSTALLED_APPS`` lists it; ``referrals`` finds it by its code
through ``referrals.transports.transport_get``. It imports ``referrals.transports`` and
``helpline.outbox`` only, and no other integration (import-linter contracts).

Tests: ``tests/integrations/webhook/`` against a receiver on 127.0.0.1 (``tests/fakes/http.py``).
"""
