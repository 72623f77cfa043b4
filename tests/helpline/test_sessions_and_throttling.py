"""Failed logins are throttled per account and per address; idle sessions expire."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.conftest import PASSWORD, login_verified

pytestmark = pytest.mark.django_db


def fail(client, username, address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": "not it"}, REMOTE_ADDR=address)


def test_account_is_locked_after_repeated_failures_even_with_the_right_password(client, counsellor, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(client, "counsellor", address=f"10.0.0.{n + 1}")
    response = client.post("/login/", {"username": "counsellor", "password": PASSWORD}, REMOTE_ADDR="10.0.9.9")
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content


def test_address_is_locked_after_failures_across_accounts(client, counsellor, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(client, f"guess{n}", address="10.1.1.1")
    response = client.post("/login/", {"username": "counsellor", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 429
    # Another address can still log in to that account.
    other = client.post("/login/", {"username": "counsellor", "password": PASSWORD}, REMOTE_ADDR="10.2.2.2")
    assert other.status_code == 302


def test_failures_below_the_limit_do_not_lock(client, counsellor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        fail(client, "counsellor")
    response = client.post("/login/", {"username": "counsellor", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302


def test_idle_session_expires(client, counsellor, settings):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    # Each request pushes the expiry forward by the idle timeout...
    session = Session.objects.get()
    remaining = session.expire_date - timezone.now()
    assert (
        timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
        < remaining
        <= timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )
    # ...so a session left alone that long is gone.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_session_cookie_is_http_only_and_not_kept_after_browser_close(client, counsellor):
    response = client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert not cookie["expires"] and not cookie["max-age"]


def test_logging_in_to_ones_own_account_does_not_reset_guesses_at_anothers(client, counsellor, supervisor, settings):
    """An insider alternating guesses at a colleague's password with their own login stays throttled."""
    for _attempt in range(3):
        for _ in range(2):
            fail(client, "supervisor", address="10.3.3.3")
        own = client.post("/login/", {"username": "counsellor", "password": PASSWORD}, REMOTE_ADDR="10.3.3.3")
        if own.status_code == 429:
            break
        client.post("/logout/")
    response = client.post("/login/", {"username": "supervisor", "password": PASSWORD}, REMOTE_ADDR="10.3.3.3")
    assert response.status_code == 429


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
