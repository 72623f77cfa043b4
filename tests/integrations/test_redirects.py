"""A receiver that answers with a redirect never gets the referral passed on: whoever answers would receive it."""

import pytest

from helpline.outbox import DeliveryError
from referrals.transports import DeliveryRequest, transport_get
from tests.fakes.http import Reply
from tests.integrations.referral_documents import full_document

PATHS = {"ncmec": "/submit", "iwf": "/report", "cpims": "/api/v1/crs/"}


def _config(name, url):
    return {
        "ncmec": {"base_url": url, "username": "u"},
        "iwf": {
            "base_url": url,
            "username": "u",
            "media_type_id": "1",
            "report_channel_id": "51",
            "reported_category_id": "2",
        },
        "cpims": {"base_url": url, "org_unit": "1"},
    }[name]


@pytest.mark.parametrize("status", [302, 307, 308])
@pytest.mark.parametrize("name", sorted(PATHS))
def test_a_redirect_is_a_permanent_failure_and_is_never_followed(fake_http, name, status):
    receiver, elsewhere = fake_http(), fake_http()
    receiver.route("POST", PATHS[name], Reply(status, headers={"Location": elsewhere.url + PATHS[name]}))
    request = DeliveryRequest(
        document=full_document(),
        idempotency_key="delivery-9",
        config=_config(name, receiver.url),
        secrets={"password": "pw-1", "token": "tok-1"},
    )

    with pytest.raises(DeliveryError) as refused:
        transport_get(name).deliver(request)

    assert refused.value.permanent and refused.value.code == "redirect"
    assert elsewhere.requests == []
