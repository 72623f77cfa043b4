"""The transport registry: agencies name a transport by code; a wrong code is a clear error."""

import pytest

from referrals.transports import DeliveryReceipt, Rendered, transport_get, transport_register


class _Echo:
    name = "test-echo"
    label = "Echo"
    config_fields = ()
    secret_fields = ()

    def validate_config(self, config, secrets):
        return []

    def render(self, request):
        return Rendered("application/json", b"{}")

    def deliver(self, request):
        return DeliveryReceipt(external_reference="echo-1")


def test_a_registered_transport_is_found_by_its_code():
    transport = transport_register(_Echo())
    assert transport_get("test-echo") is transport


def test_an_unknown_transport_is_a_clear_error():
    with pytest.raises(LookupError, match="No transport named 'nope'"):
        transport_get("nope")


def test_two_different_transports_cannot_share_a_code():
    transport_register(_Echo())

    class Other(_Echo):
        pass

    with pytest.raises(ValueError, match="Two transports"):
        transport_register(Other())


def test_a_delivery_request_shown_in_a_log_or_a_traceback_carries_neither_the_document_nor_the_secrets():
    from referrals.transports import DeliveryRequest

    request = DeliveryRequest(
        document={"child": {"name": "Amani Otieno"}},
        idempotency_key="delivery-1",
        config={"url": "https://agency.example/hook"},
        secrets={"signing_secret": "never-shown-secret"},
    )
    shown = repr(request)
    assert "Amani" not in shown and "never-shown-secret" not in shown
    assert "delivery-1" in shown
