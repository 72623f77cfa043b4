"""Item 6: the session key changes when the second factor is given.

The attacker copied the session cookie between the password and the code (a shared
computer, a proxy log, a browser extension): once the real user has typed their code,
that cookie opens nothing, neither the console nor the rest of the login.
"""

import pytest
from django.conf import settings
from django.test import Client

from helpline.models import SealedTOTPDevice
from tests.conftest import PASSWORD, make_staff, totp_code, totp_now

pytestmark = pytest.mark.django_db


def captured(client) -> Client:
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return attacker


def test_a_cookie_captured_before_the_code_is_worthless_after_it(client, counsellor):
    client.post("/login/", {"username": "counsellor", "password": PASSWORD})
    attacker = captured(client)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    assert client.post("/2fa/verify/", {"token": totp_now(counsellor)}).status_code == 302

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert client.get("/console/").status_code == 200
    for path in ("/console/", "/2fa/verify/"):
        response = attacker.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_cookie_captured_during_enrolment_is_worthless_after_it(client, demo_line):
    make_staff("newcomer", "counsellor", line=demo_line, enrolled=False)
    client.post("/login/", {"username": "newcomer", "password": PASSWORD})
    client.get("/2fa/enrol/")
    attacker = captured(client)
    device = SealedTOTPDevice.objects.select_related("data_key").get(user__username="newcomer")

    assert len(client.post("/2fa/enrol/", {"token": totp_code(device)}).context["codes"]) == 10

    assert client.get("/console/").status_code == 200
    response = attacker.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
