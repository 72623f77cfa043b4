"""A staff request reads its session, user, staff profile and second factor in one query, and still on every request:
whatever revokes access (deactivation, logout elsewhere, a removed second factor, a changed role)
is refused on the very next request."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpline.models import HashedSession, Role, SealedTOTPDevice
from helpline.session_store import LEGACY_BACKEND
from tests.conftest import PASSWORD, login_verified

pytestmark = pytest.mark.django_db


def _reads(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, [query["sql"] for query in queries]


def test_a_deactivated_user_is_refused_on_the_next_request(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    counsellor.is_active = False
    counsellor.save(update_fields=["is_active"])
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_session_ended_elsewhere_is_refused_on_the_next_request(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    HashedSession.objects.all().delete()  # logged out on another tab, or by an administrator
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_removed_second_factor_is_refused_on_the_next_request(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    SealedTOTPDevice.objects.filter(user=counsellor).delete()  # reset by an administrator
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/2fa/")


def test_a_changed_role_applies_on_the_next_request(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    counsellor.staff.role = Role.AUTHORITY
    counsellor.staff.save(update_fields=["role"])
    assert client.get("/console/").status_code == 403


def test_a_session_from_before_the_backend_stays_logged_in(client, counsellor):
    login_verified(client, counsellor)
    session = client.session
    session[BACKEND_SESSION_KEY] = LEGACY_BACKEND  # as Django's model backend wrote it
    session.save()
    assert client.get("/console/").status_code == 200


# --- One read: the session, the user, their staff profile and their second factor in one statement ---------


def test_a_staff_request_reads_its_session_user_profile_and_second_factor_in_one_statement(client, counsellor):
    login_verified(client, counsellor)
    client.get("/console/")
    response, sqls = _reads(client, "/console/")
    assert response.status_code == 200
    [session_read] = [sql for sql in sqls if '"helpline_hashedsession"' in sql]
    assert all(table in session_read for table in ('"auth_user"', '"helpline_staff"', '"helpline_sealedtotpdevice"'))
    assert not [sql for sql in sqls if sql.startswith("SELECT") and 'FROM "auth_user"' in sql]
    assert not [sql for sql in sqls if 'FROM "helpline_sealedtotpdevice"' in sql]
    assert not [sql for sql in sqls if 'FROM "helpline_staff" WHERE "helpline_staff"."user_id" =' in sql]


def _row(client):
    from helpline.session_store import session_key_digest

    return HashedSession.objects.filter(session_key=session_key_digest(client.cookies["sessionid"].value))


def test_the_rows_copy_naming_another_user_does_not_sign_in_as_them(client, counsellor, supervisor):
    """The session's data is what is believed: a row whose copy names someone else (tampered, stale) makes
    the request read the data's user apart, never the row's."""
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    _row(client).update(user_pk=supervisor.pk)
    response, sqls = _reads(client, "/supervisor/")
    assert response.status_code == 403  # still the counsellor
    assert [sql for sql in sqls if 'FROM "auth_user"' in sql and '"helpline_hashedsession"' not in sql]
    assert client.get("/console/").status_code == 200


def test_the_rows_copy_naming_a_device_does_not_verify_a_password_only_session(client, counsellor):
    client.post("/login/", {"username": counsellor.username, "password": PASSWORD})
    device = SealedTOTPDevice.objects.get(user=counsellor)
    _row(client).update(device_model="helpline.sealedtotpdevice", device_pk=device.pk)
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/2fa/")


def test_the_rows_copy_naming_another_device_makes_the_sessions_own_device_read(client, counsellor, supervisor):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    theirs = SealedTOTPDevice.objects.get(user=supervisor)
    _row(client).update(device_pk=theirs.pk)
    assert client.get("/console/").status_code == 200  # the data's device, read apart, verifies it
    SealedTOTPDevice.objects.filter(user=counsellor).delete()
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/2fa/")


def test_an_unconfirmed_second_factor_is_refused_on_the_next_request(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    SealedTOTPDevice.objects.filter(user=counsellor).update(confirmed=False)
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/2fa/")


def test_a_password_changed_elsewhere_ends_the_session_on_the_next_request(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    counsellor.set_password("another long passphrase 42")
    counsellor.save(update_fields=["password"])
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_deleted_user_is_refused_on_the_next_request(client, counsellor):
    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    from helpline.models import Staff

    Staff.objects.filter(user=counsellor).delete()
    counsellor.delete()
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_session_stored_before_the_copies_is_read_apart_and_stays_signed_in(client, counsellor):
    login_verified(client, counsellor)
    _row(client).update(user_pk=None, device_model="", device_pk=None)
    assert client.get("/console/").status_code == 200
    SealedTOTPDevice.objects.filter(user=counsellor).delete()
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith("/2fa/")


def test_a_user_without_a_staff_profile_reads_as_one_without(client, counsellor):
    from helpline.models import Staff

    login_verified(client, counsellor)
    assert client.get("/console/").status_code == 200
    Staff.objects.filter(user=counsellor).delete()
    assert client.get("/console/").status_code == 403
