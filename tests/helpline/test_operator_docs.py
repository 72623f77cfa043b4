"""The operator pages say what the code does: no shell recipes, commands that exist, every audit action listed."""

import re
from pathlib import Path

from django.core.management import get_commands

from helpline.audit.actions import actions_registered

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_no_operator_page_sends_anyone_to_the_django_shell():
    for page in DOCS.glob("*.md"):
        text = page.read_text()
        assert "manage.py shell" not in text.replace("Nobody needs `manage.py shell`", ""), page.name


def test_every_command_the_twilio_page_shows_exists():
    shown = set(re.findall(r"manage\.py (\w+)", (DOCS / "TWILIO.md").read_text()))
    assert {"endpoint_create", "endpoint_rotate_token", "endpoint_set_active", "simulate_sms"} <= shown
    assert shown - {"shell"} <= set(get_commands())


def test_every_registered_audit_action_is_described():
    text = (DOCS / "AUDIT.md").read_text()
    missing = []
    for name in actions_registered():
        if name.startswith("test."):  # registered by the suite's own test app
            continue
        prefix, _, last = name.rpartition(".")
        # A row may list siblings as `contact.accepted`, `.assigned`, ...
        if f"`{name}`" not in text and not (f"`.{last}`" in text and f"`{prefix}." in text):
            missing.append(name)
    assert missing == []


def test_every_screenshot_a_page_shows_exists():
    # `make screenshots` renames and removes files as pages come and go (tests/browser/screenshots.py).
    missing = [
        f"{page.name}: {name}"
        for page in DOCS.glob("*.md")
        for name in re.findall(r"screenshots/([\w.-]+\.png)", page.read_text())
        if not (DOCS / "screenshots" / name).exists()
    ]
    assert missing == []
