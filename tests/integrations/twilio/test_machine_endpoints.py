"""The webhooks run under the slim machine stack (config/machine.py), through the real ASGI app.

What a caller sees: a signed webhook is stored and answered as before, without the staff
stack's session cookie or page headers; staff pages keep the full stack; and nothing
under a machine path can be a page that needs a login, since no middleware there checks one.
"""

import httpx
import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string

from config.asgi import application
from config.machine import is_machine_path
from helpline.middleware import _access_of
from helpline.models import Message
from tests.integrations.twilio.conftest import BODY, MESSAGES_PATH, inbound_params, signature_for

pytestmark = pytest.mark.django_db(transaction=True)


def patterns_under(resolver, prefix=""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from patterns_under(entry, route)
        elif isinstance(entry, URLPattern):
            yield "/" + route, entry.callback


def test_every_view_under_a_machine_path_is_public():
    machine = [(route, view) for route, view in patterns_under(get_resolver()) if is_machine_path(route)]
    assert machine, "the Twilio webhooks are machine endpoints"
    assert [route for route, view in machine if _access_of(view) != "public"] == []


def test_the_machine_stack_is_async_capable_so_a_request_enters_the_view_once():
    for path in settings.HELPLINE_MACHINE_MIDDLEWARE:
        assert getattr(import_string(path), "async_capable", False), path


async def test_a_signed_webhook_through_the_asgi_app_is_stored_without_the_staff_stack(sms_endpoint, auth_token):
    params = inbound_params()
    signature = signature_for(auth_token, settings.PUBLIC_BASE_URL + MESSAGES_PATH, params)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post(MESSAGES_PATH, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200 and "<Response/>" in response.text
        assert "set-cookie" not in response.headers and "content-security-policy" not in response.headers
        forged = await client.post(MESSAGES_PATH, data=params, headers={"X-Twilio-Signature": "AAAA"})
        assert forged.status_code == 403
        page = await client.get("/login/")
        assert "content-security-policy" in page.headers  # staff pages keep the full stack
    from channels.db import database_sync_to_async

    stored = await database_sync_to_async(
        lambda: list(Message.objects.filter(direction="in").values_list("provider_id", flat=True))
    )()
    assert stored == [params["MessageSid"]]
    assert BODY not in response.text
