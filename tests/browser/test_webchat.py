"""A child on a phone: pre-chat, a message, a reply, a reload that keeps the conversation, a quick exit, the survey."""

import pytest
from playwright.sync_api import expect

from helpline.models import Contact, Message, SurveyResponse
from helpline.services.outbound import message_send
from helpline.services.queue import contact_accept, contact_end, presence_set
from helpline.vault.services import unseal
from helpline.webchat.services import webchat_endpoint_ensure
from tests.browser.conftest import in_worker_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEUTRAL = "https://www.google.com/**"


def counsellor_replies(body, counsellor):
    def work():
        contact = Contact.objects.get()
        reply = message_send(contact=contact, body=body, author=counsellor.staff)
        # Delivered straight after commit, without waiting for a worker.
        return Message.objects.get(pk=reply.pk).status

    return in_worker_thread(work)


def counsellor_takes_and_ends(counsellor):
    def work():
        staff = counsellor.staff
        staff.languages = ["en", "fr", "sw"]
        staff.save(update_fields=["languages"])
        presence_set(staff=staff, presence="available")
        contact = contact_accept(staff=staff)
        contact_end(actor=staff, contact=contact)

    in_worker_thread(work)


@pytest.fixture
def chat_url(live_server_url, demo_line):
    webchat_endpoint_ensure(line=demo_line)
    return f"{live_server_url}/chat/demo/"


def test_child_chats_resumes_after_reload_and_leaves_without_a_trace(page, chat_url, counsellor):
    page.route(NEUTRAL, lambda route: route.fulfill(body="neutral", content_type="text/html"))
    page.goto(f"{chat_url}?lang=en")  # an earlier visit to the chat, in the history
    page.goto(chat_url)

    page.get_by_label("13–15").check()
    page.get_by_role("button", name="Start chat").click()
    expect(page.locator("#notice")).to_have_text("A counsellor will be with you soon.")
    page.get_by_label("Your message").fill("Someone online wants my photos")
    page.get_by_role("button", name="Send").click()
    mine = page.locator(".msg.in").filter(has_text="Someone online wants my photos")
    expect(mine.locator(".state")).to_have_text("Sent")
    contact = Contact.objects.get()
    assert (contact.status, contact.language, contact.age_band) == ("waiting", "en", "13-15")

    assert counsellor_replies("I'm here. You did well to write.", counsellor) == "delivered"
    theirs = page.locator(".msg.out .text")
    expect(theirs).to_have_text("I'm here. You did well to write.")

    page.reload()
    expect(mine.locator(".state")).to_have_text("Sent")
    expect(theirs).to_have_text("I'm here. You did well to write.")
    expect(page.locator(".msg")).to_have_count(2)
    assert Contact.objects.count() == 1
    page.screenshot(path="var/test-webchat-conversation.png", full_page=True)

    page.get_by_role("button", name="Quick exit").click()
    page.wait_for_url(NEUTRAL)
    assert "neutral" in page.content()

    page.evaluate("history.back()")
    page.wait_for_url(f"{chat_url}?lang=en")
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    expect(page.locator(".msg")).to_have_count(0)
    assert page.locator("#conversation").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_escape_twice_leaves_the_chat(page, chat_url):
    page.route(NEUTRAL, lambda route: route.fulfill(body="neutral", content_type="text/html"))
    page.goto(f"{chat_url}?lang=fr")
    page.get_by_label("Moins de 10 ans").check()
    page.get_by_role("button", name="Commencer la discussion").click()
    expect(page.locator("#notice")).to_have_text("Quelqu'un de l'équipe d'écoute va bientôt te répondre.")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)
    assert "neutral" in page.content()


def test_resuming_keeps_the_language_chosen_before_the_chat(page, chat_url):
    page.goto(f"{chat_url}?lang=sw")
    page.get_by_label("Sipendi kusema").check()
    page.get_by_role("button", name="Anza gumzo").click()
    page.get_by_label("Ujumbe wako").fill("habari")
    page.get_by_role("button", name="Tuma").click()
    expect(page.locator(".msg.in .state")).to_have_text("Imetumwa")
    page.goto(chat_url)  # the address lost ?lang=
    page.wait_for_url(f"{chat_url}?lang=sw")
    expect(page.locator(".msg.in .text")).to_have_text("habari")
    assert Contact.objects.get().age_band == "undisclosed"


def test_closed_line_shows_help_and_opens_no_socket(page, chat_url, demo_line):
    demo_line.opening_hours = {"mon": []}
    demo_line.out_of_hours_message = "We open at 8 tomorrow."
    demo_line.save()
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto(chat_url)
    expect(page.get_by_text("We open at 8 tomorrow.")).to_be_visible()
    expect(
        page.locator("#closed").get_by_text("If you are in danger now, call your local emergency number.")
    ).to_be_visible()
    assert page.locator("#prechat").is_hidden()
    page.wait_for_timeout(300)
    assert sockets == []


def test_arabic_page_runs_right_to_left(page, chat_url):
    page.goto(f"{chat_url}?lang=ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.get_by_role("heading", name="يمكنك التحدّث إلينا")).to_be_visible()
    exit_box = page.get_by_role("button", name="خروج سريع").bounding_box()
    assert exit_box["x"] < 390 / 2  # the exit button sits at the inline end: the left in Arabic


def test_child_answers_the_survey_with_buttons_when_the_conversation_ends(page, chat_url, demo_line, counsellor):
    demo_line.survey = [
        {
            "id": "helped",
            "text": {"en": "Did this conversation help you?", "fr": "Cette discussion t'a-t-elle aidé ?"},
            "choices": ["oui", "un peu", "non"],
        },
        {"id": "again", "text": {"fr": "Nous écrirais-tu à nouveau ?"}, "choices": ["oui", "non"]},
    ]
    demo_line.save()
    page.goto(f"{chat_url}?lang=fr")
    page.get_by_label("13–15 ans").check()
    page.get_by_role("button", name="Commencer la discussion").click()
    page.get_by_label("Ton message").fill("merci de m'avoir écouté")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.locator(".msg.in .state")).to_have_text("Envoyé")

    counsellor_takes_and_ends(counsellor)
    expect(page.locator("#notice")).to_contain_text("Cette discussion est terminée.")
    survey = page.locator("#survey")
    expect(survey.get_by_role("heading")).to_have_text("La discussion est terminée")
    helped = survey.get_by_role("group", name="Cette discussion t'a-t-elle aidé ?")
    again = survey.get_by_role("group", name="Nous écrirais-tu à nouveau ?")
    send = survey.get_by_role("button", name="Envoyer mes réponses")
    expect(send).to_be_disabled()
    helped.get_by_role("button", name="non").click()
    helped.get_by_role("button", name="un peu").click()  # changing one's mind
    expect(helped.get_by_role("button", name="un peu")).to_have_attribute("aria-pressed", "true")
    expect(helped.get_by_role("button", name="non")).to_have_attribute("aria-pressed", "false")
    again.get_by_role("button", name="oui").click()
    page.screenshot(path="var/test-webchat-survey.png", full_page=True)
    send.click()
    expect(page.get_by_text("Merci pour tes réponses.")).to_be_visible()
    expect(helped).to_be_hidden()

    assert SurveyResponse.objects.get().answers == {"helped": "un peu", "again": "oui"}
    bodies = [unseal(m, "body") for m in Message.objects.select_related("contact__data_key")]
    assert bodies == ["merci de m'avoir écouté"]  # the counsellor's view holds no answer

    page.reload()  # answered: not asked again
    expect(page.locator(".msg.in .text")).to_have_text("merci de m'avoir écouté")
    page.wait_for_timeout(300)
    assert page.locator("#survey").is_hidden()


def test_child_may_skip_the_survey(page, chat_url, demo_line, counsellor):
    demo_line.survey = [{"id": "helped", "text": {"en": "Did this conversation help you?"}, "choices": ["yes", "no"]}]
    demo_line.save()
    page.goto(f"{chat_url}?lang=en")
    page.get_by_label("16–17").check()
    page.get_by_role("button", name="Start chat").click()
    expect(page.locator("#notice")).to_have_text("A counsellor will be with you soon.")
    counsellor_takes_and_ends(counsellor)
    expect(page.get_by_role("group", name="Did this conversation help you?")).to_be_visible()
    page.get_by_role("button", name="Skip").click()
    assert page.locator("#survey").is_hidden()
    page.reload()  # skipped in this tab: not asked again
    expect(page.locator("#notice")).to_contain_text("This conversation has ended.")
    page.wait_for_timeout(300)
    assert page.locator("#survey").is_hidden()
    assert not SurveyResponse.objects.exists()
