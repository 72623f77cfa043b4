"""The live queue: ordering, risk flags, accepting (never twice), assigning, transfers, ending, surveys, drafts."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.utils import timezone

from helpline.gateways import gateway_for
from helpline.models import ChannelEndpoint, Contact, ContactNote, Draft, Message, SurveyResponse
from helpline.selectors import contacts_visible_to, contacts_waiting_too_long, my_conversations, queue_for
from helpline.services.inbound import message_receive
from helpline.services.queue import (
    RoutingError,
    contact_accept,
    contact_assign,
    contact_close,
    contact_end,
    contact_transfer,
    draft_save,
    presence_set,
    risk_flag_decide,
)
from helpline.vault.services import datakey_create, seal, unseal
from tests.conftest import make_staff


@pytest.fixture(autouse=True)
def recording_gateway(settings):
    settings.HELPLINE_GATEWAYS = {"sms": "tests.testapp.gateways.RecordingGateway"}
    gateway_for.cache_clear()
    yield
    gateway_for.cache_clear()


@pytest.fixture
def sms_endpoint(demo_line):
    demo_line.risk_phrases = {"en": ["kill myself", "he is here now"], "sw": ["kujiua"]}
    demo_line.save()
    endpoint = ChannelEndpoint(line=demo_line, channel="sms", address="+15551230000", data_key=datakey_create())
    seal(endpoint, "provider_secret", "token")
    endpoint.save()
    return endpoint


def arrive(endpoint, n, body="hello", minutes_ago=0, language=""):
    inbound = message_receive(
        endpoint=endpoint, sender=f"+1555123{n:04d}", body=body, provider_id=f"SM{n}-{body[:3]}", language=language
    )
    if minutes_ago:
        Contact.objects.filter(pk=inbound.contact.pk).update(arrived_at=timezone.now() - timedelta(minutes=minutes_ago))
    return Contact.objects.get(pk=inbound.contact.pk)


def ended_with_survey(endpoint, counsellor, line):
    """A conversation the counsellor took and ended, on a line with a one-question survey."""
    line.survey = [{"id": "helped", "text": {"en": "Did this help?"}, "choices": ["yes", "no"]}]
    line.save()
    contact = arrive(endpoint, 1)
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    return contact_end(actor=counsellor.staff, contact=contact)


def available(user):
    return presence_set(staff=user.staff, presence="available")


@pytest.mark.django_db
def test_queue_orders_by_priority_then_waiting_time(sms_endpoint, counsellor):
    older = arrive(sms_endpoint, 1, minutes_ago=10)
    newer = arrive(sms_endpoint, 2, minutes_ago=2)
    urgent = arrive(sms_endpoint, 3, body="he is here now, help", minutes_ago=1)
    assert list(queue_for(counsellor)) == [urgent, older, newer]
    assert urgent.risk_flag == "suggested"


@pytest.mark.django_db
def test_risk_phrase_needs_whole_words_and_the_contacts_language(sms_endpoint, counsellor):
    skill = arrive(sms_endpoint, 1, body="I want to learn a skill myself")
    swahili = arrive(sms_endpoint, 2, body="nataka KUJIUA", language="sw")
    assert skill.risk_flag == "none" and skill.priority == 0
    assert swahili.risk_flag == "suggested"


@pytest.mark.django_db
def test_a_risk_phrase_later_in_a_waiting_conversation_raises_it_up_the_queue(sms_endpoint, counsellor):
    older = arrive(sms_endpoint, 1, minutes_ago=10)
    writing = arrive(sms_endpoint, 2, minutes_ago=2)
    assert list(queue_for(counsellor)) == [older, writing]
    message_receive(endpoint=sms_endpoint, sender="+15551230002", body="I want to kill myself", provider_id="SM2-2nd")
    writing.refresh_from_db()
    assert writing.risk_flag == "suggested" and list(queue_for(counsellor)) == [writing, older]
    assert Message.objects.filter(contact=writing, direction="in").count() == 2


@pytest.mark.django_db
def test_counsellor_confirms_or_clears_the_flag_and_both_are_recorded(sms_endpoint, counsellor):
    from helpline.audit.models import AuditEvent

    contact = arrive(sms_endpoint, 1, body="I will kill myself")
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    cleared = risk_flag_decide(actor=counsellor.staff, contact=contact, confirmed=False)
    assert (cleared.risk_flag, cleared.priority, cleared.risk_flag_by) == ("cleared", 0, counsellor.staff)
    confirmed = risk_flag_decide(actor=counsellor.staff, contact=contact, confirmed=True)
    assert confirmed.risk_flag == "confirmed" and confirmed.priority > 0
    assert list(
        AuditEvent.objects.filter(action__startswith="risk.").order_by("id").values_list("action", flat=True)
    ) == ["risk.cleared", "risk.confirmed"]


@pytest.mark.django_db
def test_take_next_gives_the_first_suitable_contact(sms_endpoint, counsellor):
    first = arrive(sms_endpoint, 1, minutes_ago=5)
    arrive(sms_endpoint, 2)
    available(counsellor)
    taken = contact_accept(staff=counsellor.staff)
    assert taken == first and taken.status == "active" and taken.counsellor == counsellor.staff


@pytest.mark.django_db
def test_language_must_match_unless_a_supervisor_assigns(sms_endpoint, counsellor, supervisor):
    french = arrive(sms_endpoint, 1, language="fr")
    available(counsellor)
    with pytest.raises(RoutingError):
        contact_accept(staff=counsellor.staff)
    with pytest.raises(RoutingError):
        contact_accept(staff=counsellor.staff, contact_id=french.pk)
    assigned = contact_assign(actor=supervisor.staff, contact=french, to_staff=counsellor.staff)
    assert assigned.counsellor == counsellor.staff and assigned.status == "active"


@pytest.mark.django_db
def test_away_or_full_counsellors_take_nothing(sms_endpoint, counsellor):
    arrive(sms_endpoint, 1)
    arrive(sms_endpoint, 2)
    with pytest.raises(RoutingError, match="available"):
        contact_accept(staff=counsellor.staff)
    available(counsellor)
    counsellor.staff.capacity = 1
    counsellor.staff.save()
    contact_accept(staff=counsellor.staff)
    with pytest.raises(RoutingError, match="limit"):
        contact_accept(staff=counsellor.staff)


@pytest.mark.django_db(transaction=True)
def test_two_counsellors_clicking_at_once_never_hold_the_same_contact(sms_endpoint, demo_line):
    contact = arrive(sms_endpoint, 1)
    counsellors = [make_staff(f"c{n}", "counsellor", line=demo_line) for n in range(6)]
    for user in counsellors:
        available(user)
    barrier = threading.Barrier(len(counsellors))
    winners, refusals, errors = [], [], []

    def click(user):
        try:
            barrier.wait()
            winners.append(contact_accept(staff=user.staff, contact_id=contact.pk).counsellor_id)
        except RoutingError:
            refusals.append(user.pk)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(user,)) for user in counsellors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(winners) == 1 and len(refusals) == 5
    assert Contact.objects.get(pk=contact.pk).counsellor_id == winners[0]


@pytest.mark.django_db
def test_transfer_keeps_the_conversation_and_sends_the_child_nothing(sms_endpoint, counsellor, supervisor):
    contact = arrive(sms_endpoint, 1)
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    draft_save(staff=counsellor.staff, contact=contact, body="half a sentence")
    outbound_before = Message.objects.filter(direction="out").count()
    moved = contact_transfer(
        actor=counsellor.staff, contact=contact, to_staff=supervisor.staff, note="She mentioned a teacher."
    )
    assert moved.counsellor == supervisor.staff and moved.status == "active"
    assert Message.objects.filter(direction="out").count() == outbound_before
    note = ContactNote.objects.get(contact=contact)
    assert unseal(note, "body") == "She mentioned a teacher." and note.recipient == supervisor.staff
    assert not Draft.objects.filter(contact=contact).exists()
    assert not contacts_visible_to(counsellor).exists()
    assert contacts_visible_to(supervisor).filter(pk=contact.pk).exists()


@pytest.mark.django_db
def test_only_the_holder_or_a_supervisor_can_transfer(sms_endpoint, counsellor, supervisor, demo_line):
    other = make_staff("other", "counsellor", line=demo_line)
    contact = arrive(sms_endpoint, 1)
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    with pytest.raises(PermissionDenied):
        contact_transfer(actor=other.staff, contact=contact, to_staff=other.staff)
    contact_transfer(actor=supervisor.staff, contact=contact, to_staff=other.staff)
    assert Contact.objects.get(pk=contact.pk).counsellor == other.staff


@pytest.mark.django_db
def test_end_moves_to_wrap_up_then_close_frees_capacity(sms_endpoint, counsellor):
    contact = arrive(sms_endpoint, 1)
    available(counsellor)
    counsellor.staff.capacity = 1
    counsellor.staff.save()
    contact_accept(staff=counsellor.staff)
    ended = contact_end(actor=counsellor.staff, contact=contact)
    assert ended.status == "wrapup" and ended.ended_at
    arrive(sms_endpoint, 2)
    with pytest.raises(RoutingError, match="limit"):
        contact_accept(staff=counsellor.staff)
    contact_close(actor=counsellor.staff, contact=contact)
    assert contact_accept(staff=counsellor.staff).status == "active"


@pytest.mark.django_db
def test_sms_survey_answers_are_kept_away_from_the_counsellor(sms_endpoint, counsellor, demo_line):
    demo_line.survey = [
        {"id": "helped", "text": {"en": "Did this help?"}, "choices": ["yes", "a little", "no"]},
        {"id": "again", "text": {"en": "Would you write again?"}, "choices": ["yes", "no"]},
    ]
    demo_line.save()
    contact = arrive(sms_endpoint, 1)
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    contact_end(actor=counsellor.staff, contact=contact)
    inbound_before = Message.objects.filter(contact=contact, direction="in").count()
    message_receive(endpoint=sms_endpoint, sender="+15551230001", body="2", provider_id="SMa1")
    message_receive(endpoint=sms_endpoint, sender="+15551230001", body="1", provider_id="SMa2")
    assert SurveyResponse.objects.get(contact=contact).answers == {"helped": "a little", "again": "yes"}
    assert Message.objects.filter(contact=contact, direction="in").count() == inbound_before
    questions = [unseal(m, "body") for m in Message.objects.filter(contact=contact, direction="out", automatic=True)]
    assert any(q.startswith("Did this help?") for q in questions)
    assert Contact.objects.filter(line=demo_line).count() == 1  # the answers opened no new conversation


@pytest.mark.django_db
def test_drafts_are_sealed_and_only_for_the_holder(sms_endpoint, counsellor, demo_line):
    other = make_staff("other", "counsellor", line=demo_line)
    contact = arrive(sms_endpoint, 1)
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    draft = draft_save(staff=counsellor.staff, contact=contact, body="I hear you")
    assert unseal(Draft.objects.get(pk=draft.pk), "body") == "I hear you"
    with pytest.raises(PermissionDenied):
        draft_save(staff=other.staff, contact=contact, body="x")
    assert draft_save(staff=counsellor.staff, contact=contact, body="  ") is None
    assert not Draft.objects.exists()


@pytest.mark.django_db
def test_supervisor_can_set_a_counsellor_away_but_a_colleague_cannot(counsellor, supervisor, demo_line):
    other = make_staff("other", "counsellor", line=demo_line)
    presence_set(staff=counsellor.staff, presence="away", actor=supervisor.staff)
    counsellor.staff.refresh_from_db()
    assert counsellor.staff.presence == "away"
    with pytest.raises(PermissionDenied):
        presence_set(staff=counsellor.staff, presence="available", actor=other.staff)


@pytest.mark.django_db
def test_long_waits_are_flagged_to_supervisors_only(sms_endpoint, supervisor, counsellor, demo_line):
    demo_line.wait_alert_seconds = 120
    demo_line.save()
    late = arrive(sms_endpoint, 1, minutes_ago=5)
    arrive(sms_endpoint, 2)
    assert list(contacts_waiting_too_long(supervisor)) == [late]
    assert not contacts_waiting_too_long(counsellor).exists()


@pytest.mark.django_db
def test_unread_counts_follow_what_the_counsellor_has_seen(sms_endpoint, counsellor):
    from helpline.services.queue import contact_mark_seen

    contact = arrive(sms_endpoint, 1)
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    assert my_conversations(counsellor).get().unread == 1
    contact_mark_seen(staff=counsellor.staff, contact=contact)
    assert my_conversations(counsellor).get().unread == 0
    message_receive(endpoint=sms_endpoint, sender="+15551230001", body="are you there", provider_id="SMx")
    assert my_conversations(counsellor).get().unread == 1


@pytest.mark.django_db
def test_other_roles_see_no_conversations(sms_endpoint, admin_user, authority, outsider):
    arrive(sms_endpoint, 1)
    for user in (admin_user, authority, outsider):
        assert not contacts_visible_to(user).exists()
        assert not queue_for(user).exists()


@pytest.mark.django_db
def test_nothing_can_be_sent_after_the_conversation_ends(sms_endpoint, counsellor):
    from helpline.services.outbound import message_send

    contact = arrive(sms_endpoint, 1)
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    contact_end(actor=counsellor.staff, contact=contact)
    with pytest.raises(ValueError, match="ended"):
        message_send(contact=Contact.objects.get(pk=contact.pk), body="one more thing", author=counsellor.staff)


@pytest.mark.django_db
def test_words_sent_during_the_survey_are_never_dropped(sms_endpoint, counsellor, demo_line):
    contact = ended_with_survey(sms_endpoint, counsellor, demo_line)
    contact_close(actor=counsellor.staff, contact=Contact.objects.get(pk=contact.pk))

    inbound = message_receive(
        endpoint=sms_endpoint, sender="+15551230001", body="he is here now please help", provider_id="SMurgent"
    )
    assert inbound.message is not None
    new_contact = Contact.objects.get(pk=inbound.contact.pk)
    assert new_contact.pk != contact.pk
    assert new_contact.status == "waiting" and new_contact.risk_flag == "suggested"
    assert Contact.objects.get(pk=contact.pk).survey_step is None  # the survey stopped
    assert not SurveyResponse.objects.exists()


@pytest.mark.django_db
def test_words_during_wrap_up_reach_the_counsellor_not_the_survey(sms_endpoint, counsellor, demo_line):
    contact = ended_with_survey(sms_endpoint, counsellor, demo_line)
    inbound = message_receive(endpoint=sms_endpoint, sender="+15551230001", body="one more thing", provider_id="SMmore")
    assert inbound.contact.pk == contact.pk
    assert unseal(Message.objects.get(pk=inbound.message.pk), "body") == "one more thing"


@pytest.mark.django_db
def test_supervisors_read_along_only_while_a_conversation_is_open(sms_endpoint, counsellor, supervisor):
    contact = arrive(sms_endpoint, 1)
    available(counsellor)
    contact_accept(staff=counsellor.staff)
    assert contacts_visible_to(supervisor).filter(pk=contact.pk).exists()
    contact_end(actor=counsellor.staff, contact=contact)
    contact_close(actor=counsellor.staff, contact=Contact.objects.get(pk=contact.pk))
    assert not contacts_visible_to(supervisor).filter(pk=contact.pk).exists()
