"""Twilio's webhooks are public, and refuse what Twilio did not sign (see tests/permissions.py).

An unsigned request for a number we serve is refused with 403 and audited (once per
window); one for a number we do not serve gets 404; neither stores anything.
"""

import pytest

from tests.integrations.twilio.conftest import SMS_NUMBER, endpoint_create, inbound_params, new_sid, status_params
from tests.permissions import everyone, expect

REJECTED = ("twilio.signature_rejected",)


@pytest.fixture
def matrix_twilio_number(demo_line):
    """The number of an active SMS endpoint."""
    endpoint_create(demo_line, channel="sms", address=SMS_NUMBER, token="a-token-nobody-signs-with")
    return SMS_NUMBER


UNSIGNED_MESSAGE = {**inbound_params(to="{twilio_number}"), "Body": "an unsigned message"}
UNSIGNED_STATUS = status_params(sid=new_sid(), status="delivered", line_number="{twilio_number}")

expect(
    "twilio:messages",
    "post",
    "/integrations/twilio/messages/",
    data=UNSIGNED_MESSAGE,
    outcomes=everyone(403),
    audits=REJECTED,
)
expect(
    "twilio:messages",
    "post",
    "/integrations/twilio/messages/",
    data={**UNSIGNED_MESSAGE, "To": "+15550000000"},
    outcomes=everyone(404),
)
expect("twilio:messages", "get", "/integrations/twilio/messages/", outcomes=everyone(405))
expect(
    "twilio:status",
    "post",
    "/integrations/twilio/status/",
    data=UNSIGNED_STATUS,
    outcomes=everyone(403),
    audits=REJECTED,
)
