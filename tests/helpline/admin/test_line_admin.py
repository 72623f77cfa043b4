"""The line form a helpline manager uses: plain fields for languages, risk phrases, the survey builder,
weekly hours and their exceptions; saved through helpline.services.lines, audited; bad input explained."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from helpline import actions
from helpline.audit.models import AuditEvent
from helpline.hours import line_is_open
from helpline.models import CannedResponse, Channel, ChannelEndpoint, Helpline
from helpline.risk import risk_phrase_found

pytestmark = pytest.mark.django_db


def change_url(line):
    return f"/admin/helpline/helpline/{line.pk}/change/"


def line_form(**changes):
    """The change form as a browser posts it: every day's two ranges, two exception rows, two survey rows."""
    data = {
        "name": "Demo line",
        "languages": "en, fr, sw",
        "timezone": "Africa/Nairobi",
        "busy_message": "",
        "out_of_hours_message": "",
        "blocked_message": "",
        "wait_alert_seconds": "180",
        "reply_amber_seconds": "120",
        "reply_red_seconds": "300",
        "opening_hours-ranges": "2",
        "opening_exceptions-rows": "2",
        "survey-rows": "2",
        "risk_phrases_en": "",
        "risk_phrases_fr": "",
        "risk_phrases_sw": "",
        "reason": "",
        "_continue": "Save and continue editing",
    }
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        for index in (0, 1):
            data[f"opening_hours-{day}-{index}-start"] = ""
            data[f"opening_hours-{day}-{index}-end"] = ""
    for index in (0, 1):
        for part in ("from", "to", "start", "end", "note"):
            data[f"opening_exceptions-{index}-{part}"] = ""
        for code in ("en", "fr", "sw"):
            data[f"survey-{index}-text-{code}"] = ""
        data[f"survey-{index}-choices"] = ""
    data.update(changes)
    return data


def test_the_form_shows_plain_inputs_and_no_raw_json(admin_client, demo_line):
    content = admin_client.get(change_url(demo_line)).content.decode()
    for name in ("risk_phrases_en", "risk_phrases_fr", "risk_phrases_sw", "survey-0-text-en", "survey-0-choices"):
        assert f'name="{name}"' in content
    assert 'name="opening_hours-mon-0-start"' in content and 'type="time"' in content
    assert 'name="opening_exceptions-0-from"' in content and 'type="date"' in content
    assert 'name="languages" value="en, fr, sw"' in content
    for raw in ('name="risk_phrases"', 'name="survey"', 'name="opening_hours"', 'name="opening_exceptions"'):
        assert raw not in content


def test_risk_phrases_one_per_line_per_language_are_saved_and_matched(admin_client, demo_line):
    data = line_form(
        risk_phrases_en="kill myself\n  he is   here now \n\nKill myself\n",
        risk_phrases_sw="nataka kufa",
        reason="Phrases from the training",
    )
    assert admin_client.post(change_url(demo_line), data).status_code == 302
    demo_line.refresh_from_db()
    assert demo_line.risk_phrases == {"en": ["kill myself", "he is here now"], "sw": ["nataka kufa"]}
    assert risk_phrase_found(line=demo_line, text="I want to KILL MYSELF", language="en")
    assert risk_phrase_found(line=demo_line, text="nataka kufa leo", language="sw")
    [event] = AuditEvent.objects.filter(action=actions.LINE_CHANGED)
    assert (event.actor_username, event.record_id) == ("administrator", str(demo_line.pk))
    assert event.details == {"fields": ["risk_phrases", "timezone"]}
    assert event.reason == "Phrases from the training"
    assert "kill myself" not in str(event.details)


def test_the_survey_builder_saves_questions_with_texts_per_language_and_choices(admin_client, demo_line):
    data = line_form(
        **{
            "survey-0-text-en": "Did this conversation help you?",
            "survey-0-text-sw": "Je, mazungumzo haya yalikusaidia?",
            "survey-0-choices": "yes\na little\nno",
            "survey-1-text-en": "Would you write to us again?",
            "survey-1-choices": "yes\nno\n",
        }
    )
    assert admin_client.post(change_url(demo_line), data).status_code == 302
    demo_line.refresh_from_db()
    assert demo_line.survey == [
        {
            "id": "did-this-conversation-help-you",
            "text": {"en": "Did this conversation help you?", "sw": "Je, mazungumzo haya yalikusaidia?"},
            "choices": ["yes", "a little", "no"],
        },
        {"id": "would-you-write-to-us-again", "text": {"en": "Would you write to us again?"}, "choices": ["yes", "no"]},
    ]


def test_a_saved_question_keeps_its_name_when_reworded_and_can_be_removed(admin_client, demo_line):
    demo_line.survey = [
        {"id": "helped", "text": {"en": "Did this help?"}, "choices": ["yes", "no"]},
        {"id": "again", "text": {"en": "Again?"}, "choices": ["yes", "no"]},
    ]
    demo_line.save()
    page = admin_client.get(change_url(demo_line)).content.decode()
    assert 'name="survey-rows" value="4"' in page  # two saved, two empty
    data = line_form(
        **{
            "survey-rows": "4",
            "survey-0-id": "helped",
            "survey-0-text-en": "Did talking to us help?",
            "survey-0-choices": "yes\nno",
            "survey-1-id": "again",
            "survey-1-text-en": "Again?",
            "survey-1-choices": "yes\nno",
            "survey-1-delete": "on",
        }
    )
    assert admin_client.post(change_url(demo_line), data).status_code == 302
    demo_line.refresh_from_db()
    assert demo_line.survey == [{"id": "helped", "text": {"en": "Did talking to us help?"}, "choices": ["yes", "no"]}]


def test_weekly_hours_and_exceptions_are_saved_and_honoured(admin_client, demo_line):
    data = line_form(
        **{
            "opening_hours-mon-0-start": "08:00",
            "opening_hours-mon-0-end": "12:00",
            "opening_hours-mon-1-start": "14:00",
            "opening_hours-mon-1-end": "20:00",
            "opening_hours-fri-0-start": "20:00",
            "opening_hours-fri-0-end": "02:00",
            "opening_exceptions-0-from": "2030-12-27",
            "opening_exceptions-0-to": "2030-12-28",
            "opening_exceptions-0-note": "Christmas closure",
            "opening_exceptions-1-from": "2030-12-31",
            "opening_exceptions-1-start": "10:00",
            "opening_exceptions-1-end": "14:00",
        }
    )
    assert admin_client.post(change_url(demo_line), data).status_code == 302
    demo_line.refresh_from_db()
    assert demo_line.opening_hours == {"mon": [["08:00", "12:00"], ["14:00", "20:00"]], "fri": [["20:00", "02:00"]]}
    assert demo_line.opening_exceptions == [
        {"from": "2030-12-27", "hours": [], "note": "Christmas closure", "to": "2030-12-28"},
        {"from": "2030-12-31", "hours": [["10:00", "14:00"]], "note": ""},
    ]

    def open_at(day, hour):
        return line_is_open(demo_line, datetime(2030, 12, day, hour, 0, tzinfo=ZoneInfo("Africa/Nairobi")))

    assert open_at(23, 9) and not open_at(23, 13)  # Monday, and its lunch break
    assert open_at(20, 21) and open_at(21, 1)  # an ordinary Friday night, past midnight
    assert not open_at(27, 21) and not open_at(28, 1)  # the closure, including the night after
    assert open_at(31, 11) and not open_at(31, 15)  # a Tuesday with special hours
    page = admin_client.get(change_url(demo_line)).content.decode()
    assert 'value="2030-12-27"' in page and 'value="Christmas closure"' in page and 'value="14:00"' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"languages": "en, english!"}, "“english!”: a language code is two or three letters"),
        ({"languages": ""}, "Give at least one language"),
        ({"opening_hours-tue-0-start": "09:00"}, "Tuesday: give both the opening and the closing time."),
        (
            {"opening_hours-wed-0-start": "09:00", "opening_hours-wed-0-end": "09:00"},
            "Wednesday: opening and closing are the same time",
        ),
        (
            {"opening_hours-thu-0-start": "25:00", "opening_hours-thu-0-end": "26:00"},
            "Thursday: “25:00” is not a time",
        ),
        ({"opening_exceptions-0-note": "Closed"}, "Exception 1: give its first date."),
        (
            {"opening_exceptions-0-from": "2030-05-02", "opening_exceptions-0-to": "2030-05-01"},
            "Exception 1: the last date comes before the first.",
        ),
        (
            {"survey-0-text-sw": "Je?", "survey-0-choices": "ndiyo\nhapana"},
            "Question 1: write it in English, the line&#x27;s first language.",
        ),
        ({"survey-0-text-en": "Did it help?", "survey-0-choices": "yes"}, "Question 1: give at least two choices"),
        (
            {"survey-0-text-en": "Did it help?", "survey-0-choices": "\n".join(str(n) for n in range(10))},
            "Question 1: at most 9 choices",
        ),
        ({"survey-0-text-en": "Help?", "survey-0-choices": "yes\nYes"}, "Question 1: each choice appears once."),
        ({"risk_phrases_en": "x" * 101}, "English: a phrase is at most 100 characters"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(admin_client, demo_line, changes, message):
    before = Helpline.objects.filter(pk=demo_line.pk).values().get()
    data = line_form(risk_phrases_fr="au secours", **changes)
    response = admin_client.post(change_url(demo_line), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content, content[content.find("errorlist") - 200 : content.find("errorlist") + 800]
    assert Helpline.objects.filter(pk=demo_line.pk).values().get() == before
    assert not AuditEvent.objects.filter(action=actions.LINE_CHANGED).exists()
    assert "au secours" in content  # what was typed elsewhere is kept


def test_a_new_language_gets_its_inputs_and_an_unsaved_one_keeps_its_phrases(admin_client, demo_line):
    demo_line.risk_phrases = {"pt": ["socorro"]}
    demo_line.save()
    content = admin_client.get(change_url(demo_line)).content.decode()
    assert 'name="risk_phrases_pt"' in content  # phrases of a language the line no longer lists stay editable
    data = line_form(languages="en, fr, sw, ar", risk_phrases_pt="socorro")
    response = admin_client.post(change_url(demo_line), {**data, "survey-0-text-en": "x"})  # an error: re-rendered
    assert 'name="risk_phrases_ar"' in response.content.decode()


def test_adding_a_line_with_its_web_chat_is_audited(admin_client):
    data = line_form(name="Parents line", languages="en", webchat="on", risk_phrases_en="he is here now")
    for code in ("fr", "sw"):
        data.pop(f"risk_phrases_{code}")
    data["slug"] = "parents"
    response = admin_client.post("/admin/helpline/helpline/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    line = Helpline.objects.get(slug="parents")
    assert line.risk_phrases == {"en": ["he is here now"]}
    endpoint = ChannelEndpoint.objects.get(line=line)
    assert (endpoint.channel, endpoint.address, endpoint.active) == (Channel.WEBCHAT, "parents", True)
    assert AuditEvent.objects.filter(action=actions.LINE_CREATED, record_id=str(line.pk)).exists()
    assert AuditEvent.objects.filter(action=actions.ENDPOINT_CREATED, record_id=str(endpoint.pk)).exists()
    assert admin_client.get("/chat/parents/").status_code == 200


def test_the_slug_cannot_change_once_the_line_exists(admin_client, demo_line):
    admin_client.post(change_url(demo_line), {**line_form(), "slug": "renamed"})
    demo_line.refresh_from_db()
    assert demo_line.slug == "demo"


def test_lines_cannot_be_deleted_from_the_admin(admin_client, demo_line):
    assert admin_client.post(f"/admin/helpline/helpline/{demo_line.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Helpline.objects.filter(pk=demo_line.pk).exists()


# --- prepared replies ----------------------------------------------------------------------


def test_prepared_replies_are_saved_and_deleted_through_the_audited_service(admin_client, demo_line):
    form = {"line": str(demo_line.pk), "language": "sw", "title": "Greeting", "body": "Habari", "_save": "Save"}
    assert admin_client.post("/admin/helpline/cannedresponse/add/", form).status_code == 302
    reply = CannedResponse.objects.get()
    assert AuditEvent.objects.filter(action=actions.CANNED_RESPONSE_CREATED, record_id=str(reply.pk)).exists()
    changed = {**form, "body": "Habari yako"}
    assert admin_client.post(f"/admin/helpline/cannedresponse/{reply.pk}/change/", changed).status_code == 302
    [event] = AuditEvent.objects.filter(action=actions.CANNED_RESPONSE_CHANGED)
    assert event.details == {"line": "demo", "fields": ["body"]}
    admin_client.post(
        "/admin/helpline/cannedresponse/", {"action": "delete_selected", "_selected_action": [reply.pk], "post": "yes"}
    )
    assert not CannedResponse.objects.exists()
    assert AuditEvent.objects.filter(action=actions.CANNED_RESPONSE_DELETED, record_id=str(reply.pk)).exists()


def test_a_prepared_reply_in_a_language_the_line_does_not_use_is_refused(admin_client, demo_line):
    form = {"line": str(demo_line.pk), "language": "de", "title": "Hallo", "body": "Hallo", "_save": "Save"}
    response = admin_client.post("/admin/helpline/cannedresponse/add/", form)
    assert response.status_code == 200
    assert "Demo line works in en, fr, sw; choose one of them." in response.content.decode()
    assert not CannedResponse.objects.exists()


def test_reply_wait_thresholds_red_must_come_after_amber(admin_client, demo_line):
    response = admin_client.post(change_url(demo_line), line_form(reply_amber_seconds="300", reply_red_seconds="60"))
    assert response.status_code == 200
    assert "Red comes after amber" in response.content.decode()
    demo_line.refresh_from_db()
    assert (demo_line.reply_amber_seconds, demo_line.reply_red_seconds) == (120, 300)
    assert admin_client.post(change_url(demo_line), line_form(reply_amber_seconds="60")).status_code == 302
    demo_line.refresh_from_db()
    assert demo_line.reply_amber_seconds == 60


def test_safety_message_is_written_per_language(admin_client, demo_line):
    data = line_form(safety_message_en="Do not pay.\nIt is not your fault.", safety_message_sw="Usilipe.")
    assert admin_client.post(change_url(demo_line), data).status_code == 302
    demo_line.refresh_from_db()
    assert demo_line.safety_message == {"en": "Do not pay.\nIt is not your fault.", "sw": "Usilipe."}
