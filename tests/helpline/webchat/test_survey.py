"""The web chat's post-contact survey: offered when the counsellor ends, answered with buttons, never seen by them."""

import uuid
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from helpline.models import Contact, Message, SurveyResponse
from helpline.services.queue import contact_accept, contact_close, contact_end, presence_set
from helpline.vault.services import unseal
from tests.helpline.webchat.conftest import new_token

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async

SURVEY = [
    {
        "id": "helped",
        "text": {"en": "Did this conversation help you?", "fr": "Cette discussion t'a-t-elle aidé ?"},
        "choices": ["yes", "a little", "no"],
    },
    {"id": "again", "text": {"en": "Would you write to us again?"}, "choices": ["yes", "no"]},
]


@pytest.fixture
def survey_line(demo_line):
    demo_line.survey = SURVEY
    demo_line.save()
    return demo_line


def message(body):
    return {"type": "message", "id": str(uuid.uuid4()), "body": body}


@db
def the_contact():
    return Contact.objects.get()


@db
def accept(counsellor):
    counsellor.staff.languages = ["en", "fr", "sw"]
    counsellor.staff.save(update_fields=["languages"])
    presence_set(staff=counsellor.staff, presence="available")
    return contact_accept(staff=counsellor.staff)


@db
def end(counsellor):
    return contact_end(actor=counsellor.staff, contact=Contact.objects.get())


@db
def close(counsellor):
    return contact_close(actor=counsellor.staff, contact=Contact.objects.get())


@db
def survey_answers():
    return [response.answers for response in SurveyResponse.objects.all()]


@db
def message_bodies():
    return [unseal(m, "body") for m in Message.objects.select_related("contact__data_key")]


async def talk_then_end(child, counsellor, **hello):
    """A child writes, a counsellor takes the conversation and ends it; the child's tab stays open."""
    tab = await child(token=new_token(), **hello)
    await tab.send(message("thank you for listening"))
    assert (await tab.receive())["type"] == "ack"
    await accept(counsellor)
    assert await tab.receive() == {"type": "status", "status": "active"}
    await end(counsellor)
    return tab


async def test_ending_the_conversation_sends_the_survey_in_the_childs_language(
    chat_endpoint, survey_line, counsellor, child
):
    tab = await talk_then_end(child, counsellor, language="fr")
    assert await tab.receive() == {"type": "status", "status": "wrapup"}  # "the conversation has ended" first
    assert await tab.receive() == {
        "type": "survey",
        "questions": [
            {"id": "helped", "text": "Cette discussion t'a-t-elle aidé ?", "choices": ["yes", "a little", "no"]},
            # No French text: the first one the line has.
            {"id": "again", "text": "Would you write to us again?", "choices": ["yes", "no"]},
        ],
    }
    assert await tab.nothing()  # the "contact.ended" event that follows repeats nothing


async def test_answers_are_stored_apart_and_never_as_messages(chat_endpoint, survey_line, counsellor, child):
    tab = await talk_then_end(child, counsellor, language="en")
    await tab.receive()  # status
    await tab.receive()  # survey
    bodies_before = await message_bodies()
    await tab.send({"type": "survey_answers", "answers": {"helped": "a little", "again": "yes"}})
    assert await tab.receive() == {"type": "survey_thanks"}
    assert await survey_answers() == [{"helped": "a little", "again": "yes"}]
    bodies_after = await message_bodies()
    assert bodies_after == bodies_before == ["thank you for listening"]  # nothing lands in the conversation
    contact = await the_contact()
    assert contact.status == "wrapup" and contact.survey_step is None


async def test_answers_before_the_end_are_refused(chat_endpoint, survey_line, counsellor, child):
    tab = await child(token=new_token(), language="en")
    await tab.send({"type": "survey_answers", "answers": {"helped": "yes"}})
    frame = await tab.receive()
    assert frame["type"] == "error" and frame["code"] == "survey_not_ended"
    assert frame["message"] == "You can answer these questions once the conversation has ended."
    await accept(counsellor)
    assert (await tab.receive())["status"] == "active"
    await tab.send({"type": "survey_answers", "answers": {"helped": "yes"}})
    assert (await tab.receive())["code"] == "survey_not_ended"
    assert await survey_answers() == []


async def test_answers_need_a_hello_and_a_well_formed_frame(chat_endpoint, survey_line, counsellor, child):
    anonymous = await child()
    await anonymous.send({"type": "survey_answers", "answers": {"helped": "yes"}})
    assert (await anonymous.receive())["code"] == "hello_first"
    tab = await talk_then_end(child, counsellor)
    await tab.receive()
    await tab.receive()
    for answers in (None, ["yes"], {"helped": ["yes"]}, {"helped": {"a": 1}}, {f"q{n}": "yes" for n in range(50)}):
        await tab.send({"type": "survey_answers", "answers": answers})
        assert (await tab.receive())["code"] == "invalid", answers
    assert await survey_answers() == []


async def test_unknown_questions_and_choices_are_ignored(chat_endpoint, survey_line, counsellor, child):
    tab = await talk_then_end(child, counsellor)
    await tab.receive()
    await tab.receive()
    await tab.send(
        {"type": "survey_answers", "answers": {"helped": "yes", "again": "maybe", "name": "Amina", "age": "12"}}
    )
    assert await tab.receive() == {"type": "survey_thanks"}
    assert await survey_answers() == [{"helped": "yes"}]


async def test_no_survey_when_the_line_has_none(chat_endpoint, demo_line, counsellor, child):
    token = new_token()
    tab = await child(token=token)
    await tab.send(message("hi"))
    await tab.receive()
    await accept(counsellor)
    await tab.receive()
    await end(counsellor)
    assert await tab.receive() == {"type": "status", "status": "wrapup"}
    assert await tab.nothing()
    await tab.close()
    again = await child(token=token)
    assert again.ready["status"] == "wrapup"
    assert await again.nothing()
    await again.send({"type": "survey_answers", "answers": {"helped": "yes"}})
    assert await again.receive() == {"type": "survey_thanks"}  # nothing to answer, nothing stored
    assert await survey_answers() == []


async def test_resuming_an_ended_conversation_offers_the_survey_until_answered(
    chat_endpoint, survey_line, counsellor, child
):
    token = new_token()
    tab = await child(token=token, language="en")
    await tab.send(message("hi"))
    await tab.receive()
    await tab.close()  # the child is offline when the counsellor ends
    await accept(counsellor)
    await end(counsellor)

    again = await child(token=token, language="en")
    assert again.ready["status"] == "wrapup"
    survey = await again.receive()
    assert survey["type"] == "survey" and [q["id"] for q in survey["questions"]] == ["helped", "again"]
    await again.send({"type": "survey_answers", "answers": {"again": "no"}})
    assert await again.receive() == {"type": "survey_thanks"}
    await again.close()

    third = await child(token=token, language="en")
    assert third.ready["status"] == "wrapup"
    assert await third.nothing()  # answered: not asked again


@pytest.mark.parametrize(
    "change",
    [
        {"ended_at": timezone.now() - timedelta(days=3)},  # older than the SMS survey window
        {"blocked": True},  # a blocked sender is never asked anything
    ],
    ids=["ended-long-ago", "blocked"],
)
async def test_no_survey_on_resume_when_too_late_or_blocked(chat_endpoint, survey_line, counsellor, child, change):
    token = new_token()
    tab = await child(token=token)
    await tab.send(message("hi"))
    await tab.receive()
    await tab.close()
    await accept(counsellor)
    await end(counsellor)

    @db
    def alter():
        Contact.objects.update(**change)

    await alter()
    again = await child(token=token)
    assert again.ready["status"] == "wrapup"
    assert await again.nothing()


async def test_writing_again_after_wrapup_leaves_the_survey_behind(chat_endpoint, survey_line, counsellor, child):
    tab = await talk_then_end(child, counsellor)
    await tab.receive()
    await tab.receive()
    assert await tab.nothing()
    await close(counsellor)
    sent = message("actually, one more thing")
    await tab.send(sent)
    assert await tab.receive() == {"type": "status", "status": "waiting"}
    assert await tab.receive() == {"type": "ack", "id": sent["id"]}
    # The socket now follows the new, open conversation: answers are refused there.
    await tab.send({"type": "survey_answers", "answers": {"helped": "yes"}})
    assert (await tab.receive())["code"] == "survey_not_ended"
    assert await survey_answers() == []
