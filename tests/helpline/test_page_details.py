"""Details a stressed user trips over: focus ring contrast, no inline styles, a code field a phone can type in."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "helpline" / "static" / "helpline"
TEMPLATE_DIRS = [ROOT / app / "templates" for app in ("helpline", "cases", "referrals")]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def css_variables(path: Path) -> dict:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", path.read_text()))


@pytest.mark.parametrize("stylesheet", ["app.css", "webchat/chat.css"])
def test_focus_ring_has_at_least_3_to_1_against_what_it_sits_on(stylesheet):
    colours = css_variables(STATIC / stylesheet)
    for surface in ("paper", "wash"):
        assert contrast(colours["focus"], colours[surface]) >= 3, surface
    # The top bar is ink-coloured: there the ring is yellow.
    assert contrast(colours["focus-on-dark"], colours["ink"]) >= 3
    css = (STATIC / stylesheet).read_text()
    assert ":focus-visible { outline: 3px solid var(--focus)" in css


def test_hidden_attribute_beats_any_display_rule():
    for stylesheet in ("app.css", "webchat/chat.css"):
        assert "[hidden] { display: none !important; }" in (STATIC / stylesheet).read_text()


def test_no_inline_styles_or_scripts_in_templates_or_scripts():
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html") if directory.exists() else []:
            text = template.read_text()
            assert not re.search(r"\sstyle=", text), template
            assert "<style" not in text, template
            assert not re.search(r"<script(?![^>]*\ssrc=)", text), template
    for script in STATIC.rglob("*.js"):
        text = script.read_text()
        # Setting element.style is an inline style under CSP; classes and [hidden] are used instead.
        assert not re.search(r"\.style\.|setAttribute\(\s*[\"']style", text), script
        assert "cssText" not in text, script


@pytest.mark.django_db
def test_the_code_field_takes_letters_on_a_phone(client, counsellor):
    from tests.conftest import PASSWORD

    client.post("/login/", {"username": counsellor.username, "password": PASSWORD})
    body = client.get("/2fa/verify/").content.decode()
    field = re.search(r'<input[^>]*name="token"[^>]*>', body).group(0)
    assert "inputmode" not in field  # a numeric pad cannot type a backup code
    assert 'autocapitalize="none"' in field
