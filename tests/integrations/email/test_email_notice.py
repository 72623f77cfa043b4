"""The e-mail notice: a link into the portal through Django's e-mail backends, and never any case content."""

import email
import logging
import socket

import pytest
from django.core import mail

from helpline.outbox import DeliveryError
from referrals.transports import DeliveryRequest, transport_get
from tests.integrations.referral_documents import PROTECTED, full_document, minimal_document

RECIPIENTS = "duty@police.example, cyber-desk@police.example"


@pytest.fixture
def notice():
    return transport_get("email")


def _request(document=None, **config):
    return DeliveryRequest(
        document=full_document() if document is None else document,
        idempotency_key="delivery-74",
        config={"recipients": RECIPIENTS, **config},
        secrets={},
    )


def test_the_notice_links_to_the_portal_and_goes_to_the_agency(notice, settings):
    settings.PUBLIC_BASE_URL = "https://helpline.example.org"

    receipt = notice.deliver(_request())

    [sent] = mail.outbox
    assert sent.to == ["duty@police.example", "cyber-desk@police.example"]
    assert "https://helpline.example.org/authority/" in sent.body
    assert sent.subject == "Urgent: a referral from Childline Kenya is waiting"
    assert "2026-12-02 06:00 UTC" in sent.body
    assert "2 address" in receipt.detail


def _without_clock(message):
    # The Date header is the clock ("13:14:50" holds "14"), not content; every other header is checked.
    del message["Date"]
    return message.as_string()


def test_the_notice_never_carries_case_content(notice):
    rendered = email.message_from_bytes(notice.render(_request()).body)
    notice.deliver(_request())

    [sent] = mail.outbox
    everything = "\n".join([_without_clock(rendered), sent.subject, sent.body, _without_clock(sent.message())])
    for value in [*PROTECTED, "HK7-3PQ9-X", "Sextortion", "instagram", "sextortion", "14", "KE-047"]:
        assert value not in everything, value


def test_render_shows_exactly_the_message_that_is_sent(notice):
    rendered = email.message_from_bytes(notice.render(_request()).body)
    notice.deliver(_request())

    [sent] = mail.outbox
    assert rendered["Subject"] == sent.subject and rendered.get_payload(decode=True).decode() == sent.body
    assert rendered["Message-ID"] == sent.message()["Message-ID"]
    assert notice.render(_request()).content_type == "message/rfc822"


def test_a_resent_notice_is_the_same_message_to_mail_software(notice):
    notice.deliver(_request())
    notice.deliver(_request())

    first, second = mail.outbox
    assert first.message()["Message-ID"] == second.message()["Message-ID"]
    other = DeliveryRequest(
        document=full_document(), idempotency_key="delivery-75", config=_request().config, secrets={}
    )
    notice.deliver(other)
    assert mail.outbox[2].message()["Message-ID"] != first.message()["Message-ID"]


def test_a_document_with_almost_nothing_still_makes_a_notice(notice):
    notice.deliver(_request(minimal_document()))

    [sent] = mail.outbox
    assert sent.subject == "A referral from the child helpline is waiting"


def test_an_unreachable_mail_server_is_retried(notice, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 5

    with pytest.raises(DeliveryError) as failed:
        notice.deliver(_request())

    assert not failed.value.permanent and failed.value.code == "network"


def test_nothing_protected_reaches_the_logs(notice, caplog):
    caplog.set_level(logging.DEBUG)

    notice.deliver(_request())

    for value in PROTECTED:
        assert value not in caplog.text


def test_configuration_problems_are_named(notice):
    assert notice.validate_config({}, {}) == ["Enter at least one e-mail address to notify."]
    assert notice.validate_config({"recipients": "duty@police.example; not-an-address"}, {}) == [
        "“not-an-address” is not an e-mail address."
    ]
    assert notice.validate_config({"recipients": RECIPIENTS}, {}) == []


def test_an_incomplete_configuration_sends_nothing(notice):
    with pytest.raises(DeliveryError) as refused:
        notice.deliver(_request(recipients=""))

    assert refused.value.permanent and mail.outbox == []
