"""`manage.py simulate_sms` against the app served by uvicorn: the real signed webhook path."""

import pytest
from django.core.management import CommandError, call_command

from helpline.models import ChannelEndpoint, Contact, Message
from helpline.vault.services import unseal
from integrations.twilio.demo import DEMO_SMS_NUMBER, DEMO_WHATSAPP_NUMBER, demo_endpoints_ensure
from tests.integrations.twilio.conftest import BODY, CHILD, NEVER_LOGGED

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(uvicorn_server, settings):
    # The command signs for PUBLIC_BASE_URL, which must be the server's own.
    settings.PUBLIC_BASE_URL = uvicorn_server["url"]
    return uvicorn_server


def test_simulated_sms_creates_demo_endpoints_and_is_stored_by_the_server(demo_line, server, capsys):
    call_command("simulate_sms", "--url", server["url"], "--from", CHILD, BODY)

    assert "HTTP 200" in capsys.readouterr().out
    assert {e.address for e in ChannelEndpoint.objects.all()} == {DEMO_SMS_NUMBER, DEMO_WHATSAPP_NUMBER}
    message = Message.objects.get(direction="in")
    assert unseal(message, "body") == BODY
    assert Contact.objects.get().status == "waiting"
    server_log = server["log"].read_text()
    assert all(value not in server_log for value in NEVER_LOGGED)


def test_simulated_whatsapp_message(demo_line, server, capsys):
    call_command("simulate_sms", "--url", server["url"], "--whatsapp", "--from", CHILD, "hello")
    assert "HTTP 200" in capsys.readouterr().out
    assert Contact.objects.get().channel == "whatsapp"


def test_a_server_with_another_public_url_refuses_the_signature(demo_line, server, settings, capsys):
    settings.PUBLIC_BASE_URL = "https://helpline.example.org"
    with pytest.raises(CommandError, match="403"):
        call_command("simulate_sms", "--url", server["url"], "hello")
    assert "PUBLIC_BASE_URL" in capsys.readouterr().err
    assert not Message.objects.exists()


def test_only_loopback_servers(demo_line):
    with pytest.raises(CommandError, match="loopback"):
        call_command("simulate_sms", "--url", "https://helpline.example.org", "hello")


def test_demo_endpoints_are_created_once(demo_line):
    first = demo_endpoints_ensure(demo_line)
    again = demo_endpoints_ensure(demo_line)
    assert [e.pk for e in first] == [e.pk for e in again]
    assert ChannelEndpoint.objects.count() == 2
    assert all(len(unseal(e, "provider_secret")) == 32 for e in again)
