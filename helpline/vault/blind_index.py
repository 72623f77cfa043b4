"""Blind indexes: find "the same sender again" without storing the identifier.

``blind_index(kind=..., value=...)`` is HMAC-SHA256 under the index key over
``kind | normalised value``, as 64 hex characters for a ``BlindIndexField``.
Exact match only: the digest reveals nothing about neighbours or prefixes.

- phone numbers are normalised to E.164 (``whatsapp:`` prefix stripped;
  ``default_region`` reads national formats such as ``0712 345 678``);
- handles (web chat, social platforms) are Unicode-normalised, stripped and
  case-folded.

The kind is part of the MAC input, so a phone number and a handle that
happen to share characters never share a digest. Changing the index key
changes every digest; see docs/DATA_PROTECTION.md before doing so.
"""

import hashlib
import hmac
import unicodedata

import phonenumbers
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpline.vault.keys import keys_get

WHATSAPP_PREFIX = "whatsapp:"


class IdentifierKind(models.TextChoices):
    PHONE = "phone", _("phone number")
    HANDLE = "handle", _("handle")


def phone_normalise(raw: str, *, default_region: str | None = None) -> str:
    """E.164 form of a phone number. Raises ValueError (naming no digits) when it is not a possible number."""
    if not isinstance(raw, str):
        raise ValueError("A phone number must be text")
    text = raw.strip()
    if text.lower().startswith(WHATSAPP_PREFIX):
        text = text[len(WHATSAPP_PREFIX) :].strip()
    try:
        number = phonenumbers.parse(text, default_region.upper() if default_region else None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            "Not a phone number (national numbers need a default region, international ones a leading +)"
        ) from None
    # "Possible" rather than "valid": the library's allocation data lags new number ranges, and
    # failing to index a real sender would hide a repeat contact.
    if not phonenumbers.is_possible_number(number):
        raise ValueError("Not a possible phone number for its country (wrong length)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def handle_normalise(raw: str) -> str:
    if not isinstance(raw, str):
        raise ValueError("A handle must be text")
    handle = unicodedata.normalize("NFKC", raw).strip().casefold()
    if not handle:
        raise ValueError("A handle cannot be empty")
    return handle


def identifier_normalise(*, kind: str, value: str, default_region: str | None = None) -> str:
    if kind == IdentifierKind.PHONE:
        return phone_normalise(value, default_region=default_region)
    if kind == IdentifierKind.HANDLE:
        return handle_normalise(value)
    raise ValueError(f"Unknown identifier kind {kind!r}; use one of {', '.join(IdentifierKind.values)}")


def blind_index_digest(*, index_key: bytes, kind: str, normalised: str) -> str:
    message = f"helpline.blind-index.v1|{kind}|{normalised}".encode()
    return hmac.new(index_key, message, hashlib.sha256).hexdigest()


def blind_index(*, kind: str, value: str, default_region: str | None = None) -> str:
    """The digest to store in, or look up by, a BlindIndexField."""
    normalised = identifier_normalise(kind=kind, value=value, default_region=default_region)
    return blind_index_digest(index_key=keys_get().index_key, kind=str(kind), normalised=normalised)
