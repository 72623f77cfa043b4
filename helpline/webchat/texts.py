"""What the chat tells a child when something goes wrong, by error code. Plain, kind words."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpline.webchat.options import MAX_BODY_CHARS

ERRORS = {
    "empty": _("Please write a message first."),
    "slow_down": _("Slow down a little. Wait a few seconds, then send your message again."),
    "frame_too_large": _("That was too much at once. Please send a shorter message."),
    "invalid": _("Something went wrong with that message. Please try again."),
    "hello_first": _("Please start the chat first."),
    "survey_not_ended": _("You can answer these questions once the conversation has ended."),
    "busy": _("Many chats are starting from your network right now. Please try again in a few minutes."),
}

LINE_CLOSED = _("We are closed right now. Please write again during our opening hours.")


def too_long_text() -> str:
    return gettext("Your message is too long. Please keep it under %(count)s characters.") % {"count": MAX_BODY_CHARS}


def error_text(code: str) -> str:
    """The text for ``code`` in the active language."""
    if code == "too_long":
        return too_long_text()
    return str(ERRORS.get(code, ERRORS["invalid"]))
