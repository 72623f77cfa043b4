"""Keeping protected values out of logs and error reports.

Two layers, because neither alone is enough:
- every protected value that passes through the vault in this context (a
  request, a task, a consumer call) is remembered in a context variable, and
  the log filter replaces it wherever it appears;
- phone numbers and e-mail addresses are masked by pattern, for values that
  never reached the vault (a malformed webhook, say).
"""

import contextvars
import logging
import re

REDACTED = "[redacted]"
MIN_REMEMBERED_LENGTH = 4
MAX_REMEMBERED_VALUES = 256

_protected: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("helpline_protected", default=())

# Nine to fifteen digits with the usual separators: phone numbers, not dates.
PHONE_PATTERN = re.compile(r"(?<![\w/])\+?\d(?:[\s().-]?\d){8,14}(?![\w:])")
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# Identifiers that hold runs of digits ("…-1234-5678-9012-…") but are ours, not a person's: kept whole.
UUID_PATTERN = re.compile(r"(\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)")


def remember_protected(value: str) -> None:
    """Note a protected value (plaintext on its way into or out of the vault)."""
    if not isinstance(value, str) or len(value) < MIN_REMEMBERED_LENGTH:
        return
    current = _protected.get()
    if value in current:
        return
    _protected.set((current + (value,))[-MAX_REMEMBERED_VALUES:])


def forget_protected() -> None:
    _protected.set(())


def redact(text: str) -> str:
    # Longest first, so a value containing another is replaced whole.
    for value in sorted(_protected.get(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    text = EMAIL_PATTERN.sub(REDACTED, text)
    # split() with a group keeps the UUIDs at the odd places; phone numbers are masked between them.
    pieces = UUID_PATTERN.split(text)
    return "".join(piece if index % 2 else PHONE_PATTERN.sub(REDACTED, piece) for index, piece in enumerate(pieces))


class RedactProtectedFilter(logging.Filter):
    """Rewrites each record's final text, including any traceback, before a handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            formatter = logging.Formatter()
            message = f"{message}\n{formatter.formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            message = f"{message}\n{record.stack_info}"
            record.stack_info = None
        record.msg = redact(message)
        record.args = None
        return True
