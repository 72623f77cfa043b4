"""Write paths of the web chat: the line's endpoint, opening or resuming a child's conversation, a child's message,
the child's answers to the line's survey.

The chat's sender is a random token the child's browser keeps for the tab's
life (sessionStorage). It is sealed and blind-indexed like a phone number, so
the same token finds the same conversation and nothing readable is stored.
"""

import asyncio
import re
import uuid
import weakref
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpline.hours import line_is_open
from helpline.models import Channel, ChannelEndpoint, Contact, ContactStatus, Helpline
from helpline.models.conversations import OPEN_STATUSES
from helpline.realtime import broadcast_after_commit, line_group
from helpline.retry import retry_on_integrity_error
from helpline.services.endpoints import webchat_endpoint_create
from helpline.services.inbound import Inbound, contact_open, message_receive, sender_index_for, sender_is_blocked
from helpline.services.surveys import survey_answers_record
from helpline.vault.blind_index import IdentifierKind, blind_index
from helpline.webchat.options import (
    AGE_BAND_VALUES,
    MAX_BODY_CHARS,
    MAX_SURVEY_ANSWERS,
    MESSAGES_PER_WINDOW,
    NEW_CHATS_WINDOW_SECONDS,
    RATE_WINDOW_SECONDS,
    RESUME_ENDED_SECONDS,
    language_codes,
)
from helpline.webchat.selectors import webchat_survey_may_answer

# 128 random bits from crypto.getRandomValues, as lowercase hex.
TOKEN_PATTERN = re.compile(r"[0-9a-f]{32}")


class WebChatError(Exception):
    """A frame the chat refuses. ``code`` picks the words the child sees (helpline.webchat.texts)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class LineClosedError(Exception):
    """A new conversation outside opening hours. ``text`` is the line's own out-of-hours message (may be empty)."""

    def __init__(self, text: str):
        super().__init__("line closed")
        self.text = text


@dataclass(frozen=True)
class Joined:
    contact_id: str | None  # None only for a blocked sender: their first message opens a closed contact
    status: str
    resumed: bool


def token_is_valid(token) -> bool:
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None


def language_clean(language) -> str:
    return language if language in language_codes() else ""


def age_band_clean(age_band) -> str:
    return age_band if age_band in AGE_BAND_VALUES else ""


@transaction.atomic
def webchat_endpoint_ensure(*, line: Helpline, actor=None) -> ChannelEndpoint:
    """The line's web chat endpoint (address = the line's slug), created if missing.

    Idempotent; an endpoint an administrator switched off stays off.
    """
    existing = ChannelEndpoint.objects.filter(channel=Channel.WEBCHAT, address=line.slug).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return webchat_endpoint_create(actor=actor, line=line)
    except IntegrityError:
        # Created by a concurrent call a moment ago.
        return ChannelEndpoint.objects.get(channel=Channel.WEBCHAT, address=line.slug)


def webchat_conversation_join(
    *, endpoint: ChannelEndpoint, token: str, language: str, age_band: str, client_address: str = ""
) -> Joined:
    """Resume the token's conversation on this line, or open a new waiting one.

    - an open contact for the token: resumed as it is;
    - only an ended one: resumed to show its history; the child's next message
      opens a new contact through message_receive, as on SMS;
    - none: a new waiting contact with the language and age band from the
      pre-chat step, so counsellors see the child in the queue before the
      first word (many children hesitate to write first); refused with
      LineClosedError outside opening hours.
    """
    if not token_is_valid(token):
        raise WebChatError("invalid")
    sender_index = sender_index_for(channel=Channel.WEBCHAT, address=token)
    # A second tab with the same token (a duplicated tab copies sessionStorage) may open the
    # contact a moment before us; the next attempt resumes theirs.
    return retry_on_integrity_error(
        lambda attempt: _conversation_join(
            endpoint=endpoint,
            client_address=client_address,
            token=token,
            sender_index=sender_index,
            language=language_clean(language),
            age_band=age_band_clean(age_band),
        )
    )


@transaction.atomic
def _conversation_join(*, endpoint, client_address, token, sender_index, language, age_band) -> Joined:
    line = endpoint.line
    open_contact = (
        Contact.objects.filter(line=line, sender_index=sender_index, status__in=OPEN_STATUSES, blocked=False)
        .order_by("-arrived_at")
        .first()
    )
    if open_contact is not None:
        return Joined(contact_id=str(open_contact.pk), status=open_contact.status, resumed=True)
    now = timezone.now()
    recently_ended = now - timedelta(seconds=RESUME_ENDED_SECONDS)
    latest = (
        Contact.objects.filter(line=line, sender_index=sender_index, ended_at__gte=recently_ended)
        .order_by("-arrived_at")
        .first()
    )
    if latest is not None:
        return Joined(contact_id=str(latest.pk), status=latest.status, resumed=True)

    if not line_is_open(line, now):
        raise LineClosedError(line.out_of_hours_message)
    if sender_is_blocked(line=line, sender_index=sender_index, now=now):
        return Joined(contact_id=None, status=ContactStatus.WAITING, resumed=False)
    if not _new_chat_allowed(client_address):
        raise WebChatError("busy")
    with transaction.atomic():  # a savepoint, so the retry above starts from a clean transaction
        contact = contact_open(
            endpoint=endpoint, sender=token, sender_index=sender_index, language=language, age_band=age_band, now=now
        )
    broadcast_after_commit(line_group(line.pk), {"type": "queue.changed", "line_id": line.pk})
    return Joined(contact_id=str(contact.pk), status=contact.status, resumed=False)


def _new_chat_allowed(client_address: str) -> bool:
    """Count new conversations per client address in the cache (Redis in production)."""
    if not client_address:
        return True
    key = f"webchat:new:{blind_index(kind=IdentifierKind.HANDLE, value=client_address)}"
    return _within_limit(key, settings.HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS, NEW_CHATS_WINDOW_SECONDS)


def _within_limit(key: str, limit: int, seconds: int) -> bool:
    """Count one more event under ``key``; at most ``limit`` in the ``seconds`` after the first.

    The count lives in the cache, shared by every socket and (with Redis) every process.
    """
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr
        return True


def _message_clean(*, token, client_id, body) -> tuple[str, str]:
    """The frame's message id and body, checked (raises WebChatError)."""
    if not token_is_valid(token) or not isinstance(body, str) or not isinstance(client_id, str):
        raise WebChatError("invalid")
    try:
        client_id = str(uuid.UUID(client_id))
    except ValueError:
        raise WebChatError("invalid") from None
    body = body.strip()
    if not body:
        raise WebChatError("empty")
    if len(body) > MAX_BODY_CHARS:
        raise WebChatError("too_long")
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a hand-made frame; the vault refuses it
        raise WebChatError("invalid") from None
    return client_id, body


async def webchat_message_admit(*, token, client_id, body) -> None:
    """Check a child's message frame and count it against the token's limit, on the event loop.

    Refused with "slow_down" past MESSAGES_PER_WINDOW for the token, counted across every
    socket that uses it (a script opening more sockets gains nothing). The count is one
    Redis round trip awaited natively (``redis.asyncio``), so it holds no database thread;
    the consumer admits a frame before handing it to ``webchat_message_post``.
    """
    _message_clean(token=token, client_id=client_id, body=body)
    sender_index = sender_index_for(channel=Channel.WEBCHAT, address=token)
    if not await _awithin_limit(f"webchat:msgs:{sender_index}", MESSAGES_PER_WINDOW, RATE_WINDOW_SECONDS):
        raise WebChatError("slow_down")


async def _awithin_limit(key: str, limit: int, seconds: int) -> bool:
    """``_within_limit`` awaited: one pipelined round trip when the cache is Redis; in-process otherwise."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        # The in-process cache (embedded mode, tests): no I/O to wait for.
        return _within_limit(key, limit, seconds)
    client = _async_redis_for(backend._servers[0])
    # The key the cache itself would use, so cache.get/clear see the same count.
    full_key = backend.make_and_validate_key(key)
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(full_key, 0, ex=seconds, nx=True)
        pipe.incr(full_key)
        _created, count = await pipe.execute()
    return count <= limit


# One asyncio Redis client per event loop and server (a client belongs to the loop it was made on).
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


def _async_redis_for(location: str):
    per_loop = _async_clients.setdefault(asyncio.get_running_loop(), {})
    client = per_loop.get(location)
    if client is None:
        client = per_loop[location] = redis.asyncio.Redis.from_url(location)
    return client


def webchat_message_post(
    *, endpoint: ChannelEndpoint, token: str, client_id, body, language: str = "", age_band: str = ""
) -> Inbound:
    """A child's message, stored through the one inbound write path (admitted first: ``webchat_message_admit``).

    ``client_id`` is the page's own id for the message and becomes the
    provider id, so a message resent after a reconnect is stored once.
    """
    client_id, body = _message_clean(token=token, client_id=client_id, body=body)
    sender_index = sender_index_for(channel=Channel.WEBCHAT, address=token)
    inbound = message_receive(
        endpoint=endpoint,
        sender=token,
        body=body,
        provider_id=client_id,
        language=language_clean(language),
        age_band=age_band_clean(age_band),
    )
    if inbound.duplicate and inbound.contact.sender_index != sender_index:
        # The id is another conversation's: say nothing about it.
        raise WebChatError("invalid")
    return inbound


@transaction.atomic
def webchat_survey_answers_post(*, contact_id: str, answers) -> None:
    """The child's answers to the survey of their own ended conversation (the socket passes its contact only).

    Kept in SurveyResponse alone, never as a message, so the counsellor never
    sees them. Unknown questions and choices are dropped by survey_answers_record;
    refused with "survey_not_ended" while the conversation is still open.
    """
    if (
        not isinstance(answers, dict)
        or len(answers) > MAX_SURVEY_ANSWERS
        or not all(isinstance(key, str) and isinstance(value, str) for key, value in answers.items())
    ):
        raise WebChatError("invalid")
    contact = (
        Contact.objects.select_for_update()
        .select_related("line")
        .filter(pk=contact_id, channel=Channel.WEBCHAT)
        .first()
    )
    if contact is None:
        raise WebChatError("invalid")
    if not webchat_survey_may_answer(contact):
        raise WebChatError("survey_not_ended")
    survey_answers_record(contact=contact, answers=answers)
