"""Fixtures of the admin tests: a verified administrator's client, and a second administrator."""

import pytest

from tests.conftest import login_verified, make_staff


@pytest.fixture
def admin_client(client, admin_user):
    return login_verified(client, admin_user)


@pytest.fixture
def other_admin(demo_line):
    return make_staff("otheradmin", "admin")
