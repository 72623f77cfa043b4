"""Item 7: a password typed into the user-name box never reaches a table or an admin page.

People type their password into the wrong box. Whatever they typed must not be readable
afterwards by anyone with the database or the admin: not in django-axes' tables, not in
the audit trail, nowhere.
"""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog

from helpline.login_throttle import login_name_digest
from tests.conftest import login_verified
from tests.helpline.security.conftest import database_dump_text

pytestmark = pytest.mark.django_db

TYPED = "Summer-Holiday-2026!kiboko"


def test_a_password_typed_as_the_user_name_leaves_no_trace_in_any_table(client, counsellor):
    response = client.post("/login/", {"username": TYPED, "password": "whatever"}, REMOTE_ADDR="192.0.2.70")
    assert response.status_code == 200
    # ... and the same once more after the right name, as people do.
    client.post("/login/", {"username": "counsellor", "password": TYPED}, REMOTE_ADDR="192.0.2.70")

    dump = database_dump_text()
    for trace in (TYPED, TYPED.lower(), TYPED.upper(), TYPED.replace("!", "%21")):
        assert trace not in dump
    attempt = AccessAttempt.objects.get(username=login_name_digest(TYPED))
    assert attempt.ip_address == "192.0.2.70" and attempt.failures_since_start == 1
    assert not AccessLog.objects.exists() and not AccessFailureLog.objects.exists()


def test_real_names_are_stored_as_keyed_hashes_too(client, counsellor):
    client.post("/login/", {"username": "counsellor", "password": "not it"}, REMOTE_ADDR="192.0.2.71")
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [login_name_digest("counsellor")]
    assert "counsellor" not in AccessAttempt.objects.values().get().values()


@pytest.mark.parametrize("path", ["/admin/axes/", "/admin/axes/accessattempt/", "/admin/axes/accesslog/"])
def test_axes_has_no_admin_pages(client, admin_user, path):
    client.post("/login/", {"username": TYPED, "password": "x"})
    login_verified(client, admin_user)
    assert client.get(path).status_code == 404
    assert TYPED not in client.get("/admin/").content.decode()
