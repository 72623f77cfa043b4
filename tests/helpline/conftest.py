"""Fixtures of the helpline tests: an SMS endpoint and a gateway that records what it is given."""

import pytest

from helpline.gateways import gateway_for
from helpline.models import ChannelEndpoint
from helpline.vault.services import datakey_create, seal
from tests.testapp import gateways


@pytest.fixture
def recording_gateway(settings):
    settings.HELPLINE_GATEWAYS = {"sms": "tests.testapp.gateways.RecordingGateway"}
    settings.HELPLINE_SEND_RETRY_SECONDS = 0
    gateway_for.cache_clear()
    gateways.SENT.clear()
    gateways.SCRIPT.clear()
    yield gateways
    gateway_for.cache_clear()


@pytest.fixture
def sms_endpoint(demo_line):
    endpoint = ChannelEndpoint(
        line=demo_line, channel="sms", address="+15551230000", provider_account="AC1", data_key=datakey_create()
    )
    seal(endpoint, "provider_secret", "token")
    endpoint.save()
    return endpoint
