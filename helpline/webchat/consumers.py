"""The child's side of a web chat conversation, over one WebSocket. Thin: every read and write is a service call.

Frames from the page:  {"type": "hello", "token", "language", "age_band"}, {"type": "message", "id", "body"},
                       {"type": "survey_answers", "answers": {question_id: choice}}, {"type": "ping"}
Frames to the page:    ready (status + history), message, ack, status, survey, survey_thanks, error, closed, pong
"""

import json
import time
from collections import deque

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation

from helpline.realtime import contact_group, database_call, socket_unwatch, socket_watch
from helpline.webchat import selectors, services
from helpline.webchat.options import (
    FRAMES_PER_WINDOW,
    MAX_FRAME_BYTES,
    MESSAGES_PER_WINDOW,
    RATE_WINDOW_SECONDS,
)
from helpline.webchat.texts import LINE_CLOSED, error_text

# Close codes in the 4000 range are the application's own.
CLOSE_LINE_CLOSED = 4000
CLOSE_BAD_HELLO = 4400
CLOSE_FLOOD = 4429
CLOSE_BUSY = 4430


class RateWindow:
    """At most ``limit`` events in any ``seconds``-long window, per connection."""

    def __init__(self, limit: int, seconds: float):
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] >= self.seconds:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


class WebChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.endpoint = None
        self.closing = False
        self.token = None
        self.contact_id = None
        self.status = None
        self.language = ""
        self.age_band = ""
        # Ids already on the child's screen; the same message may be announced more than once.
        self.shown: set[str] = set()
        # Server ids of the messages this connection posted (events about them are ours).
        self.posted: set[str] = set()
        # Survey answers per socket; messages are counted per token by the service.
        self.messages_window = RateWindow(MESSAGES_PER_WINDOW, RATE_WINDOW_SECONDS)
        self.frames_window = RateWindow(FRAMES_PER_WINDOW, RATE_WINDOW_SECONDS)
        line_slug = self.scope["url_route"]["kwargs"]["line_slug"]
        self.endpoint = await database_call(selectors.webchat_endpoint_for)(line_slug=line_slug)
        if self.endpoint is None:
            await self.close()  # before accept: the handshake is refused
            return
        await self.accept()
        # Closed if the channel layer loses state; the page says hello again and replays the history.
        socket_watch(self)

    async def disconnect(self, code):
        socket_unwatch(self)
        if self.contact_id:
            await self.channel_layer.group_discard(contact_group(self.contact_id), self.channel_name)

    async def dispatch(self, message):
        # Events this consumer does not know (the queue may announce "accepted",
        # "transferred" ...) must not end the child's connection: they only
        # mean the conversation changed, so its status is looked at again.
        try:
            known = getattr(self, get_handler_name(message), None) is not None
        except ValueError:
            known = False
        if known or message.get("type", "").startswith("websocket."):
            return await super().dispatch(message)
        if message.get("contact_id") == self.contact_id and self.contact_id:
            await self._status_refresh(
                await database_call(selectors.webchat_contact_status)(contact_id=self.contact_id)
            )

    # --- frames from the page ---------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        if not self.frames_window.allow():
            # Far more frames than a person can send: a script. The disconnect that follows cleans up.
            self.closing = True
            await self.close(code=CLOSE_FLOOD)
            return
        if text_data is None:
            await self._error("invalid")
            return
        # uvicorn refuses larger frames itself (--ws-max-size); this covers other servers.
        if len(text_data) > MAX_FRAME_BYTES // 4 and len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            await self._error("frame_too_large")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("invalid")
            return
        if not isinstance(content, dict):
            await self._error("invalid")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "hello":
            await self._hello(content)
        elif kind == "message":
            await self._message(content)
        elif kind == "survey_answers":
            await self._survey_answers(content)
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self._error("invalid")

    async def _hello(self, content):
        if self.token is not None:
            await self._error("invalid")
            return
        token = content.get("token")
        language = services.language_clean(content.get("language"))
        age_band = services.age_band_clean(content.get("age_band"))
        try:
            joined = await database_call(services.webchat_conversation_join)(
                endpoint=self.endpoint,
                token=token,
                language=language,
                age_band=age_band,
                client_address=(self.scope.get("client") or [""])[0] or "",
            )
        except services.WebChatError as refused:
            if refused.code == "busy":
                await self._error("busy")
                self.closing = True
                await self.close(code=CLOSE_BUSY)
                return
            await self._error("invalid")
            self.closing = True
            await self.close(code=CLOSE_BAD_HELLO)
            return
        except services.LineClosedError as closed:
            with translation.override(language or None):
                text = closed.text or str(LINE_CLOSED)
            await self.send_json({"type": "closed", "message": text})
            self.closing = True
            await self.close(code=CLOSE_LINE_CLOSED)
            return
        self.token, self.language, self.age_band = token, language, age_band
        history = []
        if joined.contact_id:
            # Join the group before reading the history, so nothing sent in between is missed.
            await self._follow(joined.contact_id)
            history = await database_call(selectors.webchat_history)(contact_id=joined.contact_id)
        self.shown.update(frame["id"] for frame in history)
        self.status = joined.status
        await self.send_json({"type": "ready", "status": joined.status, "history": history})
        if joined.contact_id:
            # An ended conversation the child has not answered the survey for yet (a reload, a lost connection).
            await self._survey_offer()

    async def _message(self, content):
        client_id = content.get("id") if isinstance(content.get("id"), str) else None
        if self.token is None:
            await self._error("hello_first", client_id)
            return
        try:
            # Checked and counted per token across sockets on the loop, then stored on a database thread.
            await services.webchat_message_admit(token=self.token, client_id=client_id, body=content.get("body"))
            inbound = await database_call(services.webchat_message_post)(
                endpoint=self.endpoint,
                token=self.token,
                client_id=client_id,
                body=content.get("body"),
                language=self.language,
                age_band=self.age_band,
            )
        except services.WebChatError as refused:
            await self._error(refused.code, client_id)
            return
        contact_id = str(inbound.contact.pk)
        if contact_id != self.contact_id:
            # The last conversation had ended; this message opened a new one.
            await self._follow(contact_id)
        await self._status_refresh(inbound.contact.status)
        self.shown.add(inbound.message.provider_id)
        # The event announcing this very message needs no database read to be ignored.
        self.posted.add(str(inbound.message.pk))
        await self.send_json({"type": "ack", "id": inbound.message.provider_id})

    async def _survey_answers(self, content):
        if self.token is None:
            await self._error("hello_first")
            return
        if not self.messages_window.allow():
            await self._error("slow_down")
            return
        if not self.contact_id:
            await self._error("survey_not_ended")
            return
        try:
            # Only the socket's own conversation: the frame names no contact.
            await database_call(services.webchat_survey_answers_post)(
                contact_id=self.contact_id, answers=content.get("answers")
            )
        except services.WebChatError as refused:
            await self._error(refused.code)
            return
        await self.send_json({"type": "survey_thanks"})

    # --- events from the channel layer (ids only) --------------------------------

    async def contact_message(self, event):
        await self._relay(event)

    async def message_status(self, event):
        await self._relay(event)

    async def webchat_deliver(self, event):
        # The delivery event of a server from before replies had one event (a rolling deploy).
        await self._relay(event)

    async def survey_start(self, event):
        """The counsellor ended the conversation and the line has a survey (helpline.services.surveys.survey_start)."""
        if not self.contact_id or event.get("contact_id") != self.contact_id:
            return
        # "The conversation has ended" first, then the questions.
        await self._status_refresh(await database_call(selectors.webchat_contact_status)(contact_id=self.contact_id))
        await self._survey_offer()

    async def _relay(self, event):
        if not self.contact_id or event.get("contact_id") != self.contact_id:
            return
        message_id = event.get("message_id")
        # Events that need no database read: this socket's own message, a message already shown
        # (a reply's delivery event, "contact.message" with "out", after the history replay showed it).
        if message_id in self.posted or message_id in self.shown:
            return
        frame, status = await database_call(selectors.webchat_message_frame)(
            contact_id=self.contact_id, message_id=message_id
        )
        await self._status_refresh(status)
        if frame is None or frame["id"] in self.shown:
            return
        self.shown.add(frame["id"])
        await self.send_json(frame)

    # --- helpers ----------------------------------------------------------------

    async def _survey_offer(self):
        frame = await database_call(selectors.webchat_survey_frame)(contact_id=self.contact_id)
        if frame is not None:
            await self.send_json(frame)

    async def _follow(self, contact_id: str):
        if self.contact_id:
            await self.channel_layer.group_discard(contact_group(self.contact_id), self.channel_name)
        self.contact_id = contact_id
        await self.channel_layer.group_add(contact_group(contact_id), self.channel_name)

    async def _status_refresh(self, status):
        if status and status != self.status:
            self.status = status
            await self.send_json({"type": "status", "status": status})

    async def _error(self, code: str, client_id: str | None = None):
        with translation.override(self.language or None):
            frame = {"type": "error", "code": code, "message": error_text(code)}
        if client_id:
            frame["id"] = client_id
        await self.send_json(frame)
