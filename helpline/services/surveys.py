"""The post-contact survey: two or three short questions after a conversation ends.

Answers are stored apart from the conversation (SurveyResponse) and counted in
statistics; the counsellor who had the conversation never sees them. By SMS and
WhatsApp the child answers with a number; in the web chat, with buttons.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from helpline.models import Channel, Contact, SurveyResponse
from helpline.realtime import broadcast_after_commit, contact_group
from helpline.services.outbound import message_queue_automatic

# How long after the end of a conversation an SMS reply still counts as a survey answer.
SURVEY_WINDOW = timedelta(hours=2)


def survey_questions(contact: Contact) -> list[dict]:
    """The line's questions in the contact's language: [{"id", "text", "choices"}]."""
    questions = []
    for question in contact.line.survey or []:
        texts = question.get("text", {})
        text = texts.get(contact.language) or next(iter(texts.values()), "")
        questions.append({"id": question["id"], "text": text, "choices": list(question.get("choices", []))})
    return questions


def survey_start(*, contact: Contact) -> None:
    """Called inside contact_end's transaction."""
    questions = survey_questions(contact)
    if not questions:
        return
    if contact.channel == Channel.WEBCHAT:
        broadcast_after_commit(contact_group(contact.pk), {"type": "survey.start", "contact_id": str(contact.pk)})
        return
    contact.survey_step = 0
    contact.save(update_fields=["survey_step"])
    _ask(contact, questions[0])


def survey_window_open(contact: Contact) -> bool:
    return (
        contact.survey_step is not None
        and contact.ended_at is not None
        and contact.ended_at > timezone.now() - SURVEY_WINDOW
    )


def survey_answer_fits(*, contact: Contact, text: str) -> bool:
    """Whether an SMS is a choice number for the question being asked (and nothing else)."""
    return _choice_for(contact, text) is not None


def _choice_for(contact: Contact, text: str) -> tuple[dict, str] | None:
    questions = survey_questions(contact)
    step = contact.survey_step or 0
    if step >= len(questions):
        return None
    question = questions[step]
    choice = text.strip().rstrip(".")
    if choice.isdigit() and 1 <= int(choice) <= len(question["choices"]):
        return question, question["choices"][int(choice) - 1]
    return None


@transaction.atomic
def survey_reply(*, contact: Contact, text: str) -> None:
    """An SMS answer that fits the current question: record it, then ask the next or thank."""
    fitted = _choice_for(contact, text)
    if fitted is None:
        raise ValueError("not an answer to the current survey question")
    question, choice = fitted
    _record(contact, {question["id"]: choice})
    questions = survey_questions(contact)
    step = (contact.survey_step or 0) + 1
    if step < len(questions):
        contact.survey_step = step
        contact.save(update_fields=["survey_step"])
        _ask(contact, questions[step])
        return
    survey_stop(contact=contact)
    with translation.override(contact.language or None):
        thanks = _("Thank you for your answers.")
    message_queue_automatic(contact=contact, body=thanks)


@transaction.atomic
def survey_answers_record(*, contact: Contact, answers: dict) -> SurveyResponse | None:
    """Answers from the web chat's buttons; unknown questions and choices are ignored."""
    allowed = {q["id"]: set(q["choices"]) for q in survey_questions(contact)}
    clean = {key: value for key, value in answers.items() if value in allowed.get(key, ())}
    if not clean:
        return None
    return _record(contact, clean)


def _record(contact: Contact, answers: dict) -> SurveyResponse:
    response, _created = SurveyResponse.objects.get_or_create(contact=contact, defaults={"line": contact.line})
    response.answers = {**response.answers, **answers}
    response.save(update_fields=["answers"])
    return response


def survey_stop(*, contact: Contact) -> None:
    contact.survey_step = None
    contact.save(update_fields=["survey_step"])


def _ask(contact: Contact, question: dict) -> None:
    options = ", ".join(f"{n} {choice}" for n, choice in enumerate(question["choices"], start=1))
    with translation.override(contact.language or None):
        reply = _("reply")
    message_queue_automatic(contact=contact, body=f"{question['text']} ({reply}: {options})")
