"""A staff request reads its user and staff profile in one query, and still on every request:
whatever revokes access (deactivation, logout elsewhere, a removed second factor, a changed role)
is refused on the very next request."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpline.auth_backends import LEGACY_BACKEND
from helpline.models import HashedSession, Role, SealedTOTPDevice
from tests.conftest import login_verified

pytestmark = pytest.mark.django_db


def _reads(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, [query["sql"] for query in queries]


def test_the_user_and_their_staff_profile_are_one_query(client, counsellor):
    login_verified(client, counsellor)
    client.get("/console/")  # the first request stamps the session
    response, sqls = _reads(client, "/console/")
    assert response.status_code == 200
    user_reads = [sql for sql in sqls if 'FROM "auth_user"' in sql]
    assert len(user_reads) == 1 and '"helpline_staff"' in user_reads[0]
    assert not [sql for sql in sqls if 'FROM "helpline_staff" WHERE "helpline_staff"."user_id" =' in sql]


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
