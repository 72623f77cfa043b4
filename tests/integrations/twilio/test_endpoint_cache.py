"""Endpoints are kept a few seconds per process; changes and rotated tokens never lose a message."""

import pytest

from helpline.models import ChannelEndpoint, Message
from helpline.vault.services import seal
from integrations.twilio import endpoints
from tests.integrations.twilio.conftest import MESSAGES_PATH, SMS_NUMBER, inbound_params

pytestmark = pytest.mark.django_db


def test_a_busy_number_is_looked_up_once(sms_endpoint, auth_token, twilio_post, django_assert_max_num_queries):
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 200
    first = endpoints.endpoint_find("sms", SMS_NUMBER)
    assert first.cached and first.endpoint.pk == sms_endpoint.pk and first.token == auth_token
    with django_assert_max_num_queries(0):
        endpoints.endpoint_find("sms", SMS_NUMBER)


def test_a_token_rotated_in_another_process_is_picked_up_at_once(sms_endpoint, auth_token, twilio_post):
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 200
    # Another process seals the new token: no signal reaches this one, the cache still holds the old token.
    endpoint = ChannelEndpoint.objects.select_related("data_key").get(pk=sms_endpoint.pk)
    seal(endpoint, "provider_secret", "the-new-token")
    ChannelEndpoint.objects.filter(pk=endpoint.pk).update(provider_secret=endpoint.provider_secret)

    assert twilio_post(MESSAGES_PATH, inbound_params(), token="the-new-token").status_code == 200
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 403
    assert Message.objects.filter(direction="in").count() == 2


def test_deactivating_in_this_process_applies_at_once(sms_endpoint, auth_token, twilio_post):
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 200
    sms_endpoint.active = False
    sms_endpoint.save()
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 404


def test_deactivating_elsewhere_applies_within_the_cache_time(sms_endpoint, auth_token, twilio_post, monkeypatch):
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 200
    ChannelEndpoint.objects.filter(pk=sms_endpoint.pk).update(active=False)  # no signal here
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 200  # still cached

    clock = endpoints.time.monotonic() + endpoints.CACHE_SECONDS + 1
    monkeypatch.setattr(endpoints.time, "monotonic", lambda: clock)
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 404


def test_unknown_numbers_are_not_remembered(demo_line, auth_token, twilio_post):
    from helpline.vault.services import datakey_create

    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 404
    # Created by another process: no signal reaches this one, yet the next request finds it.
    endpoint = ChannelEndpoint(
        line=demo_line, channel="sms", address=SMS_NUMBER, provider_account="AC1", data_key=datakey_create()
    )
    seal(endpoint, "provider_secret", auth_token)
    ChannelEndpoint.objects.bulk_create([endpoint])  # bulk_create sends no post_save
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=auth_token).status_code == 200


def test_saving_the_line_or_deleting_the_endpoint_forgets_it_at_once(sms_endpoint):
    assert endpoints.endpoint_find("sms", SMS_NUMBER).cached is False
    assert endpoints.endpoint_find("sms", SMS_NUMBER).cached is True
    sms_endpoint.line.out_of_hours_message = "We open at 8."
    sms_endpoint.line.save()  # integrations.twilio.signals, connected by TwilioConfig.ready()
    assert endpoints.endpoint_find("sms", SMS_NUMBER).cached is False
    sms_endpoint.delete()
    assert endpoints.endpoint_find("sms", SMS_NUMBER) is None
