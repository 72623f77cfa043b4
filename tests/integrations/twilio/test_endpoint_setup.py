"""Connecting a Twilio number without a shell: the admin form and the management commands.

The auth token is typed once (a password box, or standard input) and is then only
ever used: never shown, logged, audited or kept in the admin's history. A signed
webhook works at once with a new or rotated token, and not with the old one.
"""

import io
import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command

from helpline import actions
from helpline.audit.models import AuditEvent
from helpline.models import ChannelEndpoint
from helpline.vault.services import unseal
from tests.conftest import login_verified
from tests.integrations.twilio.conftest import MESSAGES_PATH, SMS_NUMBER, inbound_params

pytestmark = pytest.mark.django_db

TOKEN = "0123456789abcdef0123456789abcdef"
NEW_TOKEN = "fedcba9876543210fedcba9876543210"
ACCOUNT = "AC" + "1" * 32


def run(monkeypatch, command, *args, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def create_by_command(monkeypatch, *extra, token=TOKEN):
    return run(
        monkeypatch,
        "endpoint_create",
        "--line",
        "demo",
        "--channel",
        "sms",
        "--address",
        "+1 555 123 0000",
        "--account",
        ACCOUNT,
        *extra,
        stdin=token + "\n",
    )


def no_secret_anywhere(*texts):
    stored = [str(event.details) + event.reason for event in AuditEvent.objects.all()]
    stored += [entry.change_message + entry.object_repr for entry in LogEntry.objects.all()]
    for secret in (TOKEN, NEW_TOKEN):
        for text in [*stored, *texts]:
            assert secret not in text


def test_endpoint_create_reads_the_token_from_stdin_and_the_webhook_works(monkeypatch, demo_line, twilio_post, caplog):
    caplog.set_level(logging.DEBUG)
    out = create_by_command(monkeypatch, "--reason", "New SMS number")
    assert "Created the SMS endpoint +15551230000 of demo (on)." in out
    endpoint = ChannelEndpoint.objects.select_related("data_key").get(address=SMS_NUMBER)
    assert unseal(endpoint, "provider_secret") == TOKEN
    [event] = AuditEvent.objects.filter(action=actions.ENDPOINT_CREATED, record_id=str(endpoint.pk))
    assert event.actor_id is None and event.details == {"channel": "sms", "line": "demo"}
    assert event.reason == "New SMS number"
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=TOKEN).status_code == 200
    no_secret_anywhere(out, caplog.text)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--address", "0712 345 678"], TOKEN, "international format"),
        (["--address", "+1 555"], TOKEN, "not a possible phone number"),
        ([], "", "No auth token on standard input"),
        ([], "two words", "one word"),
        (["--line", "nowhere"], TOKEN, "No line with slug"),
    ],
)
def test_endpoint_create_refuses_bad_input_clearly(monkeypatch, demo_line, args, stdin, message):
    base = {"--line": "demo", "--channel": "sms", "--address": SMS_NUMBER, "--account": ACCOUNT}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [part for pair in base.items() for part in pair]
    with pytest.raises(CommandError, match=message):
        run(monkeypatch, "endpoint_create", *flat, stdin=stdin + "\n" if stdin else "")
    assert not ChannelEndpoint.objects.filter(channel="sms").exists()


def test_a_number_is_connected_once_per_channel(monkeypatch, demo_line):
    create_by_command(monkeypatch)
    with pytest.raises(CommandError, match="already connected for SMS"):
        create_by_command(monkeypatch)


def test_rotating_the_token_by_command_takes_effect_at_once(monkeypatch, demo_line, twilio_post, caplog):
    caplog.set_level(logging.DEBUG)
    create_by_command(monkeypatch)
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=TOKEN).status_code == 200  # now cached
    out = run(monkeypatch, "endpoint_rotate_token", "--channel", "sms", "--address", SMS_NUMBER, stdin=NEW_TOKEN)
    assert "Replaced the auth token" in out
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=NEW_TOKEN).status_code == 200
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=TOKEN).status_code == 403
    assert AuditEvent.objects.filter(action=actions.ENDPOINT_TOKEN_ROTATED).count() == 1
    no_secret_anywhere(out, caplog.text)


def test_switching_a_number_off_and_on_by_command(monkeypatch, demo_line, twilio_post):
    create_by_command(monkeypatch)
    out = run(monkeypatch, "endpoint_set_active", "--channel", "sms", "--address", SMS_NUMBER, "--off")
    assert "is off" in out
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=TOKEN).status_code == 404
    run(monkeypatch, "endpoint_set_active", "--channel", "sms", "--address", SMS_NUMBER, "--on", "--reason", "back")
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=TOKEN).status_code == 200
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="endpoint.").order_by("id")] == [
        actions.ENDPOINT_CREATED,
        actions.ENDPOINT_DEACTIVATED,
        actions.ENDPOINT_ACTIVATED,
    ]
    with pytest.raises(CommandError, match="No sms endpoint"):
        run(monkeypatch, "endpoint_set_active", "--channel", "sms", "--address", "+15559990000", "--on")


# --- the admin ---------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    return login_verified(client, admin_user)


def add_form(demo_line, **changes):
    data = {
        "line": str(demo_line.pk),
        "channel": "sms",
        "address": "+1 (555) 123-0000",
        "provider_account": ACCOUNT,
        "secret": TOKEN,
        "active": "on",
        "reason": "The new number",
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_the_admin_connects_a_number_with_a_write_only_token(admin_client, demo_line, twilio_post, caplog):
    caplog.set_level(logging.DEBUG)
    form_page = admin_client.get("/admin/helpline/channelendpoint/add/").content.decode()
    assert 'type="password" name="secret"' in form_page
    response = admin_client.post("/admin/helpline/channelendpoint/add/", add_form(demo_line))
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = ChannelEndpoint.objects.select_related("data_key").get(channel="sms")
    assert endpoint.address == SMS_NUMBER and unseal(endpoint, "provider_secret") == TOKEN
    [event] = AuditEvent.objects.filter(action=actions.ENDPOINT_CREATED, record_id=str(endpoint.pk))
    assert event.actor_username == "administrator" and event.reason == "The new number"
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=TOKEN).status_code == 200
    change_page = admin_client.get(f"/admin/helpline/channelendpoint/{endpoint.pk}/change/").content.decode()
    listing = admin_client.get("/admin/helpline/channelendpoint/").content.decode()
    no_secret_anywhere(form_page, change_page, listing, caplog.text)


def test_a_mistake_on_the_form_never_shows_the_token_back(admin_client, demo_line):
    response = admin_client.post("/admin/helpline/channelendpoint/add/", add_form(demo_line, address="12345"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Enter the number in international format, starting with +." in content
    assert TOKEN not in content
    assert not ChannelEndpoint.objects.filter(channel="sms").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"secret": ""}, "This field is required."),
        ({"secret": "two words"}, "An auth token is one word"),
        ({"channel": "webchat"}, "Select a valid choice"),
        ({"provider_account": ""}, "This field is required."),
    ],
)
def test_the_add_form_explains_bad_input(admin_client, demo_line, changes, message):
    response = admin_client.post("/admin/helpline/channelendpoint/add/", add_form(demo_line, **changes))
    assert response.status_code == 200 and message in response.content.decode()
    assert not ChannelEndpoint.objects.filter(channel="sms").exists()


def test_a_duplicate_number_is_refused_on_the_form(admin_client, demo_line, monkeypatch):
    create_by_command(monkeypatch)
    response = admin_client.post("/admin/helpline/channelendpoint/add/", add_form(demo_line))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert ChannelEndpoint.objects.filter(channel="sms").count() == 1


def test_the_admin_rotates_the_token_and_switches_the_number_off(
    admin_client, demo_line, monkeypatch, twilio_post, caplog
):
    caplog.set_level(logging.DEBUG)
    create_by_command(monkeypatch)
    endpoint = ChannelEndpoint.objects.get(channel="sms")
    url = f"/admin/helpline/channelendpoint/{endpoint.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'type="password" name="new_secret"' in page
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=TOKEN).status_code == 200  # cached

    response = admin_client.post(url, {"active": "on", "new_secret": NEW_TOKEN, "reason": "Rotated in Twilio"})
    assert response.status_code == 302
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=NEW_TOKEN).status_code == 200
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=TOKEN).status_code == 403
    [event] = AuditEvent.objects.filter(action=actions.ENDPOINT_TOKEN_ROTATED)
    assert event.reason == "Rotated in Twilio"

    # An empty token box keeps the token; unticking "active" switches the number off.
    assert admin_client.post(url, {"new_secret": "", "reason": "Number retired"}).status_code == 302
    endpoint = ChannelEndpoint.objects.select_related("data_key").get(pk=endpoint.pk)
    assert not endpoint.active and unseal(endpoint, "provider_secret") == NEW_TOKEN
    assert twilio_post(MESSAGES_PATH, inbound_params(), token=NEW_TOKEN).status_code == 404
    assert AuditEvent.objects.filter(action=actions.ENDPOINT_DEACTIVATED, reason="Number retired").exists()
    no_secret_anywhere(page, admin_client.get(url).content.decode(), caplog.text)


def test_bulk_switching_is_audited_and_endpoints_are_never_deleted(admin_client, demo_line, monkeypatch):
    create_by_command(monkeypatch)
    endpoint = ChannelEndpoint.objects.get(channel="sms")
    admin_client.post("/admin/helpline/channelendpoint/", {"action": "switch_off", "_selected_action": [endpoint.pk]})
    assert not ChannelEndpoint.objects.get(pk=endpoint.pk).active
    assert AuditEvent.objects.filter(action=actions.ENDPOINT_DEACTIVATED).count() == 1
    response = admin_client.post(f"/admin/helpline/channelendpoint/{endpoint.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ChannelEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_counsellor_cannot_create_an_endpoint_through_the_service(counsellor, demo_line):
    from django.core.exceptions import PermissionDenied

    from helpline.services.endpoints import endpoint_create

    with pytest.raises(PermissionDenied):
        endpoint_create(
            actor=counsellor,
            line=demo_line,
            channel="sms",
            address=SMS_NUMBER,
            provider_account=ACCOUNT,
            secret=TOKEN,
        )
    assert not ChannelEndpoint.objects.filter(channel="sms").exists()
