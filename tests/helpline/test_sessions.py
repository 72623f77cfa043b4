"""Idle sessions expire; the session cookie is not kept. (Login throttling: tests/helpline/security/.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpline.models import HashedSession
from tests.conftest import PASSWORD, login_verified

pytestmark = pytest.mark.django_db


def test_idle_session_expires(client, counsellor, settings):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    # Each request pushes the expiry forward by the idle timeout...
    session = HashedSession.objects.get()
    remaining = session.expire_date - timezone.now()
    assert (
        timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
        < remaining
        <= timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )
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
    from helpline.middleware import ACTIVE_AT_SESSION_KEY

    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    # The counsellor walks away; events keep arriving and the page refreshes itself.
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= settings.SESSION_COOKIE_AGE - 5
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
    from helpline.middleware import ACTIVE_AT_SESSION_KEY

    login_verified(client, counsellor)
    session = client.session
    session[ACTIVE_AT_SESSION_KEY] -= settings.SESSION_COOKIE_AGE - 5
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
