"""Twilio retries a webhook it thinks timed out, sometimes while the first is still running."""

import threading

import pytest
from django.db import connections
from django.test import Client

from helpline.models import Contact, Message
from tests.integrations.twilio.conftest import MESSAGES_PATH, inbound_params, signature_for

THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_message_sid_store_one_message(sms_endpoint, auth_token, settings):
    params = inbound_params()
    signature = signature_for(auth_token, settings.PUBLIC_BASE_URL + MESSAGES_PATH, params)
    start = threading.Barrier(THREADS)
    statuses, errors = [], []

    def post():
        try:
            client = Client()
            start.wait(timeout=30)
            response = client.post(MESSAGES_PATH, params, headers={"X-Twilio-Signature": signature})
            statuses.append(response.status_code)
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert statuses == [200] * THREADS
    assert Message.objects.filter(direction="in").count() == 1
    assert Contact.objects.count() == 1
    assert Message.objects.filter(direction="out").count() == 1  # one waiting reply
