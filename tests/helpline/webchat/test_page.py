"""The chat page: public, strict about what it loads and keeps, in the child's language."""

import html
import re

import pytest

from helpline.models import ChannelEndpoint
from helpline.webchat.options import DEFAULT_EXIT_URL

pytestmark = pytest.mark.django_db


def nonce_of(response) -> str:
    return response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]


def test_page_is_public_and_loads_only_its_own_assets(client, chat_endpoint):
    response = client.get("/chat/demo/")
    assert response.status_code == 200
    body = response.content.decode()
    nonce = nonce_of(response)
    scripts = re.findall(r"<script[^>]*>", body)
    assert len(scripts) == 1 and f'nonce="{nonce}"' in scripts[0] and "/static/helpline/webchat/chat.js" in scripts[0]
    assert re.findall(r"https?://[^\"' <]+", body) == [DEFAULT_EXIT_URL]  # a navigation target, not an asset
    assert "style=" not in body and "<style" not in body
    assert 'href="/static/helpline/webchat/chat.css"' in body


def test_page_is_never_cached_never_referred_and_sets_no_cookie(client, chat_endpoint):
    response = client.get("/chat/demo/")
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert not response.cookies
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_pre_chat_asks_only_language_and_age(client, chat_endpoint):
    body = client.get("/chat/demo/").content.decode()
    assert re.findall(r'name="(\w+)"', body) == ["viewport", "referrer", "robots"] + ["age_band"] * 6 + ["body"]
    for band in ("Under 10", "10–12", "13–15", "16–17", "18 or older", "I&#x27;d rather not say"):
        assert band in body
    assert 'data-open="true"' in body and 'data-ws-path="/ws/chat/demo/"' in body


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "Quick exit"), ("fr", "Sortie rapide"), ("sw", "Ondoka haraka")],
)
def test_language_switch(client, chat_endpoint, lang, words):
    response = client.get(f"/chat/demo/?lang={lang}")
    body = response.content.decode()
    assert words in body
    assert f'<html lang="{lang}" dir="ltr">' in body
    assert response["Content-Language"] == lang


def test_french_and_swahili_pre_chat(client, chat_endpoint):
    french = client.get("/chat/demo/?lang=fr").content.decode()
    assert "Quel âge as-tu" in french and "Commencer la discussion" in french and "Moins de 10 ans" in french
    swahili = client.get("/chat/demo/?lang=sw").content.decode()
    assert "Una umri gani?" in swahili and "Anza gumzo" in swahili and "Chini ya miaka 10" in swahili
    # each language is offered in its own name
    assert "Français" in swahili and "Kiswahili" in french


def test_browser_language_is_used_when_none_is_asked(client, chat_endpoint):
    body = client.get("/chat/demo/", HTTP_ACCEPT_LANGUAGE="sw,en;q=0.5").content.decode()
    assert '<html lang="sw"' in body


def test_unknown_language_falls_back_to_the_lines_first(client, chat_endpoint):
    body = client.get("/chat/demo/?lang=xx", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="en"' in body


def test_unknown_line_is_not_found(client, chat_endpoint):
    assert client.get("/chat/nowhere/").status_code == 404


def test_line_without_an_active_chat_endpoint_is_not_found(client, demo_line):
    assert client.get("/chat/demo/").status_code == 404
    from helpline.webchat.services import webchat_endpoint_ensure

    webchat_endpoint_ensure(line=demo_line)
    assert client.get("/chat/demo/").status_code == 200
    ChannelEndpoint.objects.filter(channel="webchat").update(active=False)
    assert client.get("/chat/demo/").status_code == 404


def test_closed_line_shows_its_message_and_how_to_get_help(client, chat_endpoint, demo_line):
    demo_line.opening_hours = {"mon": []}
    demo_line.out_of_hours_message = "We open at 8 tomorrow."
    demo_line.save()
    body = client.get("/chat/demo/").content.decode()
    assert 'data-open="false"' in body
    assert "We open at 8 tomorrow." in body
    assert "If you are in danger now, call your local emergency number." in body
    closed_section = body.split('id="closed"')[1].split(">")[0]
    assert "hidden" not in closed_section


def test_static_assets_are_served(client):
    for path in ("/static/helpline/webchat/chat.js", "/static/helpline/webchat/chat.css"):
        response = client.get(path)
        assert response.status_code == 200, path


def test_the_line_sets_its_emergency_number_and_quick_exit_address(client, chat_endpoint):
    line = chat_endpoint.line
    line.emergency_number = "116"
    line.quick_exit_url = "https://example.org/recipes"
    line.save()
    body = client.get("/chat/demo/").content.decode()
    assert body.count("In danger now? Call 116.") == 2  # closed notice and pre-chat
    assert re.findall(r"https?://[^\"' <]+", body) == ["https://example.org/recipes"]


def test_without_its_own_settings_the_chat_names_no_number_and_exits_to_a_neutral_search(client, chat_endpoint):
    body = client.get("/chat/demo/").content.decode()
    assert "If you are in danger now, call your local emergency number." in body
    assert f'data-exit-url="{DEFAULT_EXIT_URL}"' in body


@pytest.mark.parametrize("address", ["http://example.org/", "javascript:alert(1)", "data:text/html,hi"])
def test_a_quick_exit_address_must_be_an_ordinary_https_page(chat_endpoint, address):
    from django.core.exceptions import ValidationError

    from helpline.services.lines import helpline_update

    with pytest.raises(ValidationError):
        helpline_update(actor=None, line=chat_endpoint.line, values={"quick_exit_url": address})


def test_header_shows_the_lines_neutral_name_and_the_pre_chat_its_emergency_number(client, chat_endpoint, demo_line):
    demo_line.chat_display_name = "Talk"
    demo_line.emergency_number = "112"
    demo_line.save()
    body = client.get("/chat/demo/").content.decode()
    assert '<span class="line-name">Talk</span>' in body
    assert demo_line.name not in body
    prechat = body.split('id="prechat"')[1].split("</section>")[0]
    assert "In danger now? Call 112." in prechat


def test_without_settings_the_header_shows_the_line_name(client, chat_endpoint, demo_line):
    body = client.get("/chat/demo/").content.decode()
    assert f'<span class="line-name">{demo_line.name}</span>' in body
    prechat = body.split('id="prechat"')[1].split("</section>")[0]
    assert "In danger now" not in prechat


@pytest.mark.parametrize(
    "language, text",
    [
        ("fr", "En danger maintenant ? Appelle le 116."),
        ("sw", "Uko hatarini sasa? Piga 116."),
        ("ar", "في خطر الآن؟ يُرجى الاتصال بالرقم 116."),
    ],
)
def test_the_emergency_number_is_given_in_the_childs_language(client, chat_endpoint, language, text):
    line = chat_endpoint.line
    line.emergency_number = "116"
    line.languages = ["en", "fr", "sw", "ar"]
    line.save()
    body = html.unescape(client.get(f"/chat/demo/?lang={language}").content.decode())
    assert text in body
