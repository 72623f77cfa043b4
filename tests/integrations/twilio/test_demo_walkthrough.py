"""The demo as the README tells it: seed_demo prints the served address and a simulate_sms line that works
as printed, and the README's example message is flagged by the demo line's risk phrases."""

import io
import re
import shlex
from pathlib import Path

import pytest
from django.core.management import call_command

from helpline.models import CannedResponse, Contact, Helpline

pytestmark = pytest.mark.django_db(transaction=True)

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture
def server(uvicorn_server, settings):
    settings.PUBLIC_BASE_URL = uvicorn_server["url"]
    return uvicorn_server


def test_seed_demo_prints_a_simulate_sms_line_that_works_as_printed(server, capsys):
    out = io.StringIO()
    call_command("seed_demo", "--served-at", server["url"], stdout=out)
    printed = out.getvalue()
    assert f"Log in at {server['url']}/" in printed and f"{server['url']}/chat/demo/" in printed
    line = next(text for text in printed.splitlines() if "simulate_sms" in text)
    words = shlex.split(line)
    assert words[0] == f"PUBLIC_BASE_URL={server['url']}"  # what the server checks signatures against
    assert words[1:4] == [".venv/bin/python", "manage.py", "simulate_sms"]
    call_command(*words[3:])
    assert "HTTP 200" in capsys.readouterr().out
    contact = Contact.objects.get()
    assert contact.risk_flag == "suggested"  # the example message is flagged


def test_the_demo_line_has_phrases_replies_survey_and_safety_texts(server):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    line = Helpline.objects.get(slug="demo")
    assert set(line.risk_phrases) == {"en", "fr", "sw"}
    assert len(line.survey) == 2 and line.emergency_number and set(line.safety_message) == {"en", "fr", "sw"}
    english = CannedResponse.objects.filter(line=line, language="en")
    assert english.count() == 8
    titles = " ".join(english.values_list("category", flat=True))
    assert "Sextortion" in titles and "Self-generated images" in titles


def test_the_readme_example_is_flagged_by_the_demo_phrases():
    from helpline.demo_content import RISK_PHRASES
    from helpline.risk import risk_phrase_found

    examples = re.findall(r'simulate_sms[^\n"]*"([^"\n]+)"', README.read_text())
    assert examples, "the README shows a simulate_sms example"
    line = Helpline(risk_phrases=RISK_PHRASES)
    assert risk_phrase_found(line=line, text=examples[0], language="en")
