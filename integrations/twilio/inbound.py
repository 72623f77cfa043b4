"""Reading Twilio's form posts into plain values. No database, no side effects.

A ``MalformedWebhook`` carries a short text fit to send back to Twilio (it
appears in the Twilio console's debugger): it names the parameter at fault,
never its value, because values are children's numbers and words.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from helpline.models import Channel, MessageStatus
from helpline.models.conversations import MAX_BODY_LENGTH
from helpline.services.inbound import Media
from helpline.vault.blind_index import phone_normalise

WHATSAPP_PREFIX = "whatsapp:"
# Twilio message SIDs: "SM" (or "MM" for MMS) and 32 hex digits.
SID_PATTERN = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
# MMS carries at most 10 media and WhatsApp 1; anything beyond is not from Twilio.
MAX_MEDIA = 10
MAX_CONTENT_TYPE_LENGTH = 100
MAX_MEDIA_URL_LENGTH = 2000

# Twilio's message statuses, in our vocabulary. "receiving" and "received"
# describe inbound messages and never reach a status callback of ours.
STATUS_MAP = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    # Some parts of a long message arrived; a final status follows.
    "partially_delivered": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}


class MalformedWebhook(ValueError):
    """The request is signed but not shaped like a Twilio message webhook."""


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    to: str  # the line's own number, E.164
    sender: str  # the person writing, E.164 (no "whatsapp:" prefix)
    body: str
    sid: str
    media: tuple[Media, ...]


@dataclass(frozen=True)
class StatusCallback:
    sid: str
    status: str | None  # a MessageStatus value, None for a status we do not track
    error_code: str


def address_split(raw: str) -> tuple[str, str]:
    """("whatsapp", "+15551230000") for "whatsapp:+15551230000", ("sms", ...) without the prefix.

    The number is returned as sent (Twilio sends E.164): endpoints are looked up
    by exact match, without parsing, before the signature is checked.
    """
    text = (raw or "").strip()
    if text[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX:
        return Channel.WHATSAPP, text[len(WHATSAPP_PREFIX) :].strip()
    return Channel.SMS, text


def inbound_parse(params) -> InboundMessage:
    """An inbound SMS or WhatsApp message from the webhook's form parameters (a QueryDict or dict)."""
    channel, to = address_split(_required(params, "To"))
    sender_channel, sender_raw = address_split(_required(params, "From"))
    if sender_channel != channel:
        raise MalformedWebhook(_("From and To must both be WhatsApp addresses, or neither."))
    try:
        sender = phone_normalise(sender_raw)
    except ValueError:
        raise MalformedWebhook(_("From is not a phone number.")) from None
    sid = _required(params, "MessageSid")
    if not SID_PATTERN.fullmatch(sid):
        raise MalformedWebhook(_("MessageSid is not a Twilio message SID."))
    body = params.get("Body") or ""
    if len(body) > MAX_BODY_LENGTH:
        raise MalformedWebhook(_("Body is longer than %(count)d characters.") % {"count": MAX_BODY_LENGTH})
    return InboundMessage(channel=channel, to=to, sender=sender, body=body, sid=sid, media=tuple(_media_parse(params)))


def status_parse(params) -> StatusCallback:
    sid = _required(params, "MessageSid")
    if not SID_PATTERN.fullmatch(sid):
        raise MalformedWebhook(_("MessageSid is not a Twilio message SID."))
    raw_status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not raw_status:
        raise MalformedWebhook(_("MessageStatus is missing."))
    error_code = (params.get("ErrorCode") or "").strip()
    if error_code and not error_code.isdigit():
        raise MalformedWebhook(_("ErrorCode is not a number."))
    return StatusCallback(sid=sid, status=STATUS_MAP.get(raw_status), error_code=error_code[:16])


def _required(params, name: str) -> str:
    value = (params.get(name) or "").strip()
    if not value:
        raise MalformedWebhook(_("%(name)s is missing.") % {"name": name})
    return value


def _media_parse(params) -> list[Media]:
    raw_count = (params.get("NumMedia") or "0").strip()
    if not raw_count.isdigit():
        raise MalformedWebhook(_("NumMedia is not a number."))
    count = int(raw_count)
    if count > MAX_MEDIA:
        raise MalformedWebhook(_("NumMedia is more than %(count)d.") % {"count": MAX_MEDIA})
    media = []
    for index in range(count):
        content_type = (params.get(f"MediaContentType{index}") or "").strip()
        url = (params.get(f"MediaUrl{index}") or "").strip()
        if not url or not content_type:
            raise MalformedWebhook(_("MediaUrl%(index)d or MediaContentType%(index)d is missing.") % {"index": index})
        if not url.startswith("https://") or len(url) > MAX_MEDIA_URL_LENGTH:
            raise MalformedWebhook(_("MediaUrl%(index)d is not an https link.") % {"index": index})
        if len(content_type) > MAX_CONTENT_TYPE_LENGTH or "/" not in content_type:
            raise MalformedWebhook(_("MediaContentType%(index)d is not a media type.") % {"index": index})
        # Recorded, never fetched: a counsellor chooses whether to open it.
        media.append(Media(content_type=content_type.lower(), url=url))
    return media
