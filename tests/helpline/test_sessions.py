"""Idle sessions expire; the session cookie is not kept. (Login throttling: tests/helpline/security/.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpline.middleware import ACTIVE_AT_SESSION_KEY, idle_allowance
from helpline.models import HashedSession
from tests.conftest import PASSWORD, login_verified

pytestmark = pytest.mark.django_db


def test_idle_session_expires(client, counsellor, settings):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    # The stamp's write pushes the expiry forward by the idle timeout and the stamp's interval...
    session = HashedSession.objects.get()
    remaining = session.expire_date - timezone.now()
    assert timedelta(seconds=idle_allowance() - 60) < remaining <= timedelta(seconds=idle_allowance())
    # ...so a session left alone that long is gone.
    HashedSession.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_session_cookie_is_http_only_and_not_kept_after_browser_close(client, counsellor):
    response = client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert not cookie["expires"] and not cookie["max-age"]


def test_refreshes_the_console_makes_by_itself_do_not_keep_it_logged_in(client, counsellor, settings):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    # The counsellor walks away; events keep arriving and the page refreshes itself.
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= idle_allowance() - 5
    session.save()
    background = {"HTTP_X_HELPLINE_BACKGROUND": "1", "HTTP_HX_REQUEST": "true"}
    assert client.get("/console/queue/", **background).status_code == 200
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= 10
    session.save()
    response = client.get("/console/queue/", **background)
    assert response.status_code == 204 and response["HX-Redirect"] == "/login/"
    assert client.get("/console/").status_code == 302


def test_what_the_user_does_keeps_the_session_alive(client, counsellor, settings):
    login_verified(client, counsellor)
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= idle_allowance() - 5
    session.save()
    assert client.get("/console/").status_code == 200  # a click of their own
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= 10
    session.save()
    assert client.get("/console/").status_code == 200


def test_a_stored_session_decodes_through_its_own_store(client, counsellor):
    client.force_login(counsellor)
    (row,) = HashedSession.objects.all()
    assert row.get_decoded()["_auth_user_id"] == str(counsellor.pk)


def _session_writes(client, path, **headers) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, **headers).status_code == 200
    return sum(1 for query in queries if "helpline_hashedsession" in query["sql"] and "UPDATE" in query["sql"])


def test_the_session_is_written_at_most_once_per_stamp_interval(client, counsellor, settings):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200  # stamps
    assert _session_writes(client, "/console/") == 0
    assert _session_writes(client, "/console/queue/", HTTP_HX_REQUEST="true") == 0
    # Once the stamp is as old as the interval, the user's next request writes it again...
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= settings.HELPLINE_SESSION_TOUCH_SECONDS
    session.save()
    before = client.session[ACTIVE_AT_SESSION_KEY]
    assert _session_writes(client, "/console/") == 1
    assert client.session[ACTIVE_AT_SESSION_KEY] > before
    # ...and the row's expiry moves with it; a background refresh writes nothing.
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= settings.HELPLINE_SESSION_TOUCH_SECONDS
    session.save()
    assert _session_writes(client, "/console/queue/", HTTP_HX_REQUEST="true", HTTP_X_HELPLINE_BACKGROUND="1") == 0


def test_nobody_is_logged_out_before_the_idle_timeout_and_everybody_by_timeout_and_interval(
    client, counsellor, settings
):
    settings.HELPLINE_SESSION_TOUCH_SECONDS = 120
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    # The stamp was written 119 s before the user's last click (not rewritten: inside the interval);
    # they then left for exactly the idle timeout minus a second.
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= 119 + settings.SESSION_COOKIE_AGE - 1
    session.save()
    background = {"HTTP_X_HELPLINE_BACKGROUND": "1", "HTTP_HX_REQUEST": "true"}
    assert client.get("/console/queue/", **background).status_code == 200
    # Past the timeout plus the interval the session has ended, whatever the stamp says.
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= 3
    session.save()
    assert client.get("/console/queue/", **background).status_code == 204
    assert client.get("/console/").status_code == 302


def test_the_session_row_lives_as_long_as_the_idle_allowance(client, counsellor, settings):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    row = HashedSession.objects.get()
    # Not written again inside the interval, so the row must outlive the stamp by the whole allowance.
    assert row.expire_date - timezone.now() > timedelta(seconds=settings.SESSION_COOKIE_AGE)


# --- The same rules when the middlewares run in an async chain -------------------------------


def _async_client_for(user):
    from django.test import AsyncClient, Client

    signed_in = login_verified(Client(), user)
    client = AsyncClient()
    client.cookies = signed_in.cookies
    return signed_in, client


@pytest.mark.django_db(transaction=True)
async def test_async_chain_keeps_the_idle_timeout_and_throttles_the_stamp(counsellor, settings):
    from asgiref.sync import sync_to_async

    signed_in, client = await sync_to_async(_async_client_for)(counsellor)
    assert (await client.get("/console/")).status_code == 200
    stamp = await sync_to_async(lambda: signed_in.session[ACTIVE_AT_SESSION_KEY])()
    assert (await client.get("/console/")).status_code == 200
    assert (await sync_to_async(lambda: signed_in.session[ACTIVE_AT_SESSION_KEY])()) == stamp

    def age_stamp(seconds):
        session = signed_in.session
        session[ACTIVE_AT_SESSION_KEY] -= seconds
        session.save()

    await sync_to_async(age_stamp)(idle_allowance() + 1)
    response = await client.get("/console/queue/", headers={"HX-Request": "true", "X-Helpline-Background": "1"})
    assert response.status_code == 204 and response["HX-Redirect"] == "/login/"
    assert (await client.get("/console/")).status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_async_chain_needs_the_second_factor(counsellor):
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient, Client

    anonymous = await AsyncClient().get("/console/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")

    def password_only():
        client = Client()
        assert client.post("/login/", {"username": counsellor.username, "password": PASSWORD}).status_code == 302
        return client.cookies

    client = AsyncClient()
    client.cookies = await sync_to_async(password_only)()
    response = await client.get("/console/")
    assert response.status_code == 302 and response["Location"] == "/2fa/"
    _signed_in, verified = await sync_to_async(_async_client_for)(counsellor)
    assert (await verified.get("/console/")).status_code == 200
