"""The web chat in Arabic: right to left, and every word a child sees translated (page, socket, automatic replies)."""

import gettext
import html
from pathlib import Path

import pytest
from django.utils import translation

from helpline.models import BlockedSender, Message
from helpline.services.inbound import message_receive, sender_index_for
from helpline.services.queue import contact_accept, contact_end, presence_set
from helpline.vault.services import unseal
from helpline.webchat.options import AGE_BANDS
from helpline.webchat.texts import ERRORS, LINE_CLOSED, too_long_text
from tests.helpline.webchat.conftest import new_token

LOCALE = Path(__file__).resolve().parents[3] / "locale"


def catalogue(language: str) -> dict[str, str]:
    """The compiled catalogue the server reads (the .mo file committed beside the .po)."""
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as compiled:
        return {key: value for key, value in gettext.GNUTranslations(compiled)._catalog.items() if key}


def test_every_language_of_the_chat_translates_the_same_strings():
    arabic, french, swahili = catalogue("ar"), catalogue("fr"), catalogue("sw")
    assert set(arabic) == set(french) == set(swahili)
    assert all(arabic.values()) and all(french.values()) and all(swahili.values())


def test_the_strings_the_chat_code_shows_are_all_in_the_catalogue():
    arabic = catalogue("ar")
    with translation.override("en"):
        shown = [str(text) for text in ERRORS.values()] + [str(LINE_CLOSED)] + [str(label) for _v, label in AGE_BANDS]
    assert [text for text in shown if text not in arabic] == []
    with translation.override("ar"):
        assert too_long_text() == "رسالتك طويلة جدًا. يُرجى ألّا يزيد طولها على 1000 من الأحرف."


@pytest.mark.django_db
def test_the_arabic_page_is_right_to_left_and_translated(client, chat_endpoint):
    response = client.get("/chat/demo/?lang=ar")
    body = response.content.decode()

    assert '<html lang="ar" dir="rtl">' in body and response["Content-Language"] == "ar"
    for words in ("خروج سريع", "كم عمرك؟", "بدء المحادثة", "أقل من 10 سنوات", "أفضّل عدم الإجابة", "رسالتك"):
        assert words in body
    assert 'data-waiting="سيكون معك شخص من فريق الدعم قريبًا."' in body
    assert "JavaScript" in body  # the name stays, inside the Arabic sentence
    # No English words of the chat are left on the page (the age ranges are digits in both).
    english = [text for text in catalogue("ar") if any(character.isalpha() for character in text)]
    left = [text for text in english if html.escape(text) in body or text in body]
    assert left == []


@pytest.mark.django_db(transaction=True)
async def test_the_socket_speaks_arabic(chat_endpoint, child):
    tab = await child(token=new_token(), language="ar")
    assert tab.ready["type"] == "ready"
    await tab.send({"type": "message", "id": "5d3b1c1e-0000-4000-8000-000000000001", "body": "  "})
    frame = await tab.receive()
    assert frame["code"] == "empty" and frame["message"] == "يُرجى كتابة رسالة أولًا."


def automatic_replies(contact) -> list[str]:
    replies = Message.objects.filter(contact=contact, direction="out", automatic=True).order_by("created_at")
    return [unseal(reply, "body") for reply in replies]


@pytest.mark.django_db
def test_automatic_replies_are_in_the_childs_language(sms_endpoint, demo_line, recording_gateway):
    waiting = message_receive(endpoint=sms_endpoint, sender="+15551230001", body="مرحبا", language="ar").contact
    assert automatic_replies(waiting) == ["شكرًا لأنك كتبت إلينا. سيردّ عليك شخص من فريق الدعم في أقرب وقت ممكن."]

    BlockedSender.objects.create(line=demo_line, sender_index=sender_index_for(channel="sms", address="+15551230002"))
    blocked = message_receive(endpoint=sms_endpoint, sender="+15551230002", body="x", language="ar").contact
    assert automatic_replies(blocked) == ["لا يمكننا استقبال رسالتك على هذا الرقم."]

    demo_line.opening_hours = {"mon": []}  # closed every day
    demo_line.save()
    closed = message_receive(endpoint=sms_endpoint, sender="+15551230003", body="x", language="ar").contact
    assert automatic_replies(closed) == ["نحن خارج أوقات العمل الآن. يُرجى الكتابة إلينا مرة أخرى خلال أوقات عملنا."]


@pytest.mark.django_db
def test_the_sms_survey_asks_and_thanks_in_the_childs_language(sms_endpoint, demo_line, counsellor, recording_gateway):
    demo_line.survey = [{"id": "helped", "text": {"ar": "هل ساعدتك هذه المحادثة؟"}, "choices": ["نعم", "لا"]}]
    demo_line.save()
    contact = message_receive(endpoint=sms_endpoint, sender="+15551230001", body="مرحبا", language="ar").contact
    counsellor.staff.languages = ["en", "ar"]
    counsellor.staff.save()
    presence_set(staff=counsellor.staff, presence="available")
    contact_end(actor=counsellor.staff, contact=contact_accept(staff=counsellor.staff))

    assert automatic_replies(contact)[-1] == "هل ساعدتك هذه المحادثة؟ (للإجابة: 1 نعم, 2 لا)"
    message_receive(endpoint=sms_endpoint, sender="+15551230001", body="1", provider_id="SMa1")
    assert automatic_replies(contact)[-1] == "شكرًا على إجاباتك."
