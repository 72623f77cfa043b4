"""The chat's endpoint per line, and the gateway that hands replies to the child's socket."""

import pytest

from helpline.gateways import Outgoing, gateway_for
from helpline.models import ChannelEndpoint
from helpline.vault.services import unseal
from helpline.webchat.gateway import WebChatGateway
from helpline.webchat.services import WebChatError, webchat_endpoint_ensure, webchat_message_post

pytestmark = pytest.mark.django_db


def test_endpoint_ensure_is_idempotent_and_keeps_no_secret(demo_line):
    first = webchat_endpoint_ensure(line=demo_line)
    again = webchat_endpoint_ensure(line=demo_line)
    assert first.pk == again.pk and ChannelEndpoint.objects.count() == 1
    assert (first.channel, first.address, first.active) == ("webchat", "demo", True)
    assert unseal(ChannelEndpoint.objects.get(), "provider_secret") == ""


def test_endpoint_ensure_leaves_a_switched_off_chat_off(demo_line):
    webchat_endpoint_ensure(line=demo_line)
    ChannelEndpoint.objects.update(active=False)
    assert webchat_endpoint_ensure(line=demo_line).active is False


def test_the_settings_point_the_webchat_channel_at_this_gateway():
    gateway_for.cache_clear()
    assert isinstance(gateway_for("webchat"), WebChatGateway)


def test_gateway_reports_delivered_without_needing_a_listener():
    result = WebChatGateway().send(
        Outgoing(
            message_id="m",
            contact_id="c",
            channel="webchat",
            endpoint_address="demo",
            endpoint_account="",
            endpoint_secret="",
            to="",
            body="not sent through the layer",
        )
    )
    assert (result.provider_id, result.status) == (None, "delivered")


@pytest.mark.parametrize(
    ("client_id", "body", "code"),
    [
        ("not-a-uuid", "hi", "invalid"),
        ("3f1c2a7e-8d4b-4c5e-9f0a-1b2c3d4e5f60", "\ud800", "invalid"),  # a lone surrogate
        ("3f1c2a7e-8d4b-4c5e-9f0a-1b2c3d4e5f60", " \n ", "empty"),
        ("3f1c2a7e-8d4b-4c5e-9f0a-1b2c3d4e5f60", None, "invalid"),
    ],
)
def test_message_post_refuses_what_the_page_never_sends(demo_line, client_id, body, code):
    endpoint = webchat_endpoint_ensure(line=demo_line)
    with pytest.raises(WebChatError) as refused:
        webchat_message_post(endpoint=endpoint, token="a" * 32, client_id=client_id, body=body)
    assert refused.value.code == code
