"""What the chat offers and where its limits are, in one place."""

from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

# Asked once, before the chat opens; nothing else is asked (anonymity first).
AGE_BANDS = [
    ("under10", _("Under 10")),
    ("10-12", _("10–12")),
    ("13-15", _("13–15")),
    ("16-17", _("16–17")),
    ("18plus", _("18 or older")),
    ("undisclosed", _("I'd rather not say")),
]
AGE_BAND_VALUES = frozenset(value for value, _label in AGE_BANDS)

MAX_BODY_CHARS = 1000
# A frame holds one message (1000 characters, at most 4 UTF-8 bytes each) and a little JSON
# around it; anything larger is not our page. The ASGI server refuses larger frames before
# reading them: `make run` and the production recipe pass this as uvicorn's --ws-max-size.
MAX_FRAME_BYTES = 16 * 1024
# Per conversation token, across all its sockets (counted in the cache, Redis in production):
# a child typing fast stays well under this, a script does not. Each socket also has its own
# ceiling on frames of any kind.
MESSAGES_PER_WINDOW = 10
FRAMES_PER_WINDOW = 40
RATE_WINDOW_SECONDS = 10
# A conversation that ended longer ago than this is not shown again: a tab the child
# closed and someone else reopened (browsers restore sessionStorage) starts afresh.
RESUME_ENDED_SECONDS = 15 * 60
# The window for settings.HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS.
NEW_CHATS_WINDOW_SECONDS = 10 * 60

# A survey has two or three questions; a frame answering dozens is not our page.
MAX_SURVEY_ANSWERS = 20

# Quick exit goes here with location.replace() unless the line sets its own address
# (Helpline.quick_exit_url); a navigation, never an asset the page loads.
DEFAULT_EXIT_URL = "https://www.google.com/search?q=weather"


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def chat_languages(line) -> list[dict]:
    """The languages the page offers for a line: the line's own, else every language of the site.

    Each is named in itself ("Français", "Kiswahili"), so a child finds theirs
    whatever language the page is in now.
    """
    supported = language_codes()
    codes = [code for code in line.languages if code in supported] or supported
    return [{"code": code, "name": get_language_info(code)["name_local"]} for code in codes]
