"""Twilio retries a webhook it thinks timed out, sometimes while the first is still running."""

import threading

import pytest
from django.db import connection, connections
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_message_for_a_conversation_closed_under_it_opens_a_new_one(sms_endpoint, auth_token, settings):
    """The message is read as joining an open conversation, which a counsellor closes before it is stored."""

    def post(params):
        signature = signature_for(auth_token, settings.PUBLIC_BASE_URL + MESSAGES_PATH, params)
        return Client().post(MESSAGES_PATH, params, headers={"X-Twilio-Signature": signature}).status_code

    assert post(inbound_params(body="first")) == 200
    contact = Contact.objects.get()
    statuses = []
    counsellor = connections.create_connection("default")  # the counsellor's transaction, on its own connection
    with counsellor.cursor() as closer:
        closer.execute("BEGIN")
        closer.execute("SELECT id FROM helpline_contact WHERE id = %s FOR UPDATE", [contact.pk])
        second = threading.Thread(target=lambda: (statuses.append(post(inbound_params())), connections.close_all()))
        second.start()
        # Until the webhook waits on the counsellor's row lock (seen by PostgreSQL, not by a clock).
        for _ in range(300):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
            threading.Event().wait(0.05)
        closer.execute("UPDATE helpline_contact SET status = 'closed', ended_at = now() WHERE id = %s", [contact.pk])
        closer.execute("COMMIT")
        second.join(timeout=60)
    counsellor.close()
    assert statuses == [200]
    assert Message.objects.filter(contact=contact, direction="in").count() == 1
    reopened = Contact.objects.exclude(pk=contact.pk).get()
    assert reopened.status == "waiting" and Message.objects.filter(contact=reopened, direction="in").count() == 1
