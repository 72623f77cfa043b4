"""The portal's e-mail notices (referrals.notices): when something waits for an agency (a new referral
delivered to a portal-only agency, a question or an answer from the helpline, an overdue referral),
its authority users, or its notice address, get an e-mail with a link into the portal and never any
content; sent through the outbox, so a mail server that is down is retried and never blocks the step."""

import socket
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from referrals.escalation import referrals_escalate
from referrals.models import AgencyNotice, DeliveryStatus, NoticeKind, Referral
from referrals.notices import notice_attempt
from referrals.services import referral_question_answer, referral_question_ask
from referrals.services.agencies import agency_update
from tests.referrals.conftest import ANSWER, PROTECTED, QUESTION
from tests.referrals.world import agency_user, referral_sent

pytestmark = pytest.mark.django_db

# Case content the police may receive (POLICE_FIELDS) and that no notice may hold.
CONTENT = [*PROTECTED, QUESTION, ANSWER, "instagram", "Instagram", "sextortion", "Sextortion", "violence", "girl"]


def _officers(agency, *names):
    users = []
    for name in names:
        user = agency_user(name, agency)
        get_user_model().objects.filter(pk=user.pk).update(email=f"{name}@police.example")
        users.append(user)
    return users


def _send(kind) -> mail.EmailMessage:
    notice = AgencyNotice.objects.get(kind=kind)
    mail.outbox.clear()
    assert notice_attempt(notice_id=notice.pk) == "sent"
    [message] = mail.outbox
    return message


def _assert_no_content(message, referral):
    text = "\n".join(
        [message.subject, message.body, *message.to, *(value for _key, value in message.extra_headers.items())]
    )
    for value in [*CONTENT, referral.case.reference, "13-15", "KE-047"]:
        assert value not in text, value


@pytest.fixture
def police(plan):
    return plan["ke-police-nairobi"].agency


def test_a_new_referral_for_a_portal_only_agency_tells_each_of_its_users(
    plan, police, counsellor, supervisor, settings
):
    settings.PUBLIC_BASE_URL = "https://helpline.example.org"
    _officers(police, "officer_a", "officer_b")
    referral = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)

    message = _send(NoticeKind.NEW_REFERRAL)
    assert sorted(message.to) == ["officer_a@police.example", "officer_b@police.example"]
    assert f"https://helpline.example.org/authority/referrals/{referral.pk}/" in message.body
    assert "waiting" in message.subject and police.name in message.body
    _assert_no_content(message, referral)
    assert AgencyNotice.objects.get(kind=NoticeKind.NEW_REFERRAL).status == DeliveryStatus.DELIVERED


def test_the_agencys_notice_address_gets_it_instead(plan, police, counsellor, supervisor):
    _officers(police, "officer_a")
    agency_update(actor=None, agency=police, notice_email="duty@police.example", reason="Duty desk")
    referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    assert _send(NoticeKind.NEW_REFERRAL).to == ["duty@police.example"]


def test_an_invalid_notice_address_is_refused(police):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        agency_update(actor=None, agency=police, notice_email="not an address", reason="Typo")
    assert "notice_email" in refused.value.message_dict


def test_no_one_to_tell_queues_nothing(plan, counsellor, supervisor):
    referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    assert not AgencyNotice.objects.exists()


def test_an_agency_with_another_delivery_method_gets_no_new_referral_notice(plan, police, counsellor, supervisor):
    # Its transport told it already (here the e-mail transport's own notice; a webhook, an API...).
    agency_update(actor=None, agency=police, transport="email", transport_config={"recipients": "duty@police.example"})
    _officers(police, "officer_a")
    mail.outbox.clear()
    referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    assert not AgencyNotice.objects.filter(kind=NoticeKind.NEW_REFERRAL).exists()
    assert [message.to for message in mail.outbox] == [["duty@police.example"]]


def test_a_question_and_an_answer_from_the_helpline(sent, counsellor):
    (officer,) = _officers(sent.agency, "officer_a")
    referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    message = _send(NoticeKind.QUESTION)
    assert "question" in message.subject and f"/authority/referrals/{sent.pk}/" in message.body
    _assert_no_content(message, sent)

    asked = referral_question_ask(agency=sent.agency, actor=officer, referral=sent, text=QUESTION)
    assert not AgencyNotice.objects.filter(kind=NoticeKind.ANSWER).exists()  # the agency's own step: no notice
    referral_question_answer(actor=counsellor, question=asked, text=ANSWER)
    message = _send(NoticeKind.ANSWER)
    assert "answered" in message.subject
    _assert_no_content(message, sent)


def test_an_overdue_referral(sent):
    _officers(sent.agency, "officer_a")
    Referral.objects.filter(pk=sent.pk).update(acknowledge_by=timezone.now() - timedelta(minutes=1))
    referrals_escalate()
    message = _send(NoticeKind.OVERDUE)
    assert "overdue" in message.subject
    _assert_no_content(message, sent)
    referrals_escalate()  # once per deadline
    assert AgencyNotice.objects.filter(kind=NoticeKind.OVERDUE).count() == 1


def test_a_mail_server_that_is_down_never_blocks_the_step_and_the_notice_is_retried(sent, counsellor, settings):
    _officers(sent.agency, "officer_a")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 5

    question = referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)  # the step itself succeeds
    assert question.pk is not None
    notice = AgencyNotice.objects.get(kind=NoticeKind.QUESTION)
    assert notice_attempt(notice_id=notice.pk) == "retrying"
    notice.refresh_from_db()
    assert notice.status == DeliveryStatus.PENDING and notice.attempts == 1 and notice.next_attempt_at
    assert "mail server" in notice.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    AgencyNotice.objects.filter(pk=notice.pk).update(next_attempt_at=timezone.now())
    mail.outbox.clear()
    assert notice_attempt(notice_id=notice.pk) == "sent"
    assert len(mail.outbox) == 1
    assert notice_attempt(notice_id=notice.pk) == "skipped"  # sent once


def test_the_embedded_mode_writes_notices_to_the_console():
    import os

    from config import settings as project

    if not project.PRODUCTION and "EMAIL_BACKEND" not in os.environ:
        assert project.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
