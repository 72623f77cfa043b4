"""Realtime for the counsellor and supervisor consoles: what changed, by id, never content.

The browser answers each event by re-fetching the affected fragment over HTTP,
where the permission rule (helpline.selectors) is applied again. The channel
layer may drop events, so nothing depends on one arriving: a console that
reconnects reloads everything from the database.

Groups joined: the user's own ``staff_group``, the ``line_group`` of each of
their lines, the ``contact_group`` of each conversation they hold (re-derived
from the database when a ``contact.assigned`` or their own ``staff.changed``
arrives) and, for a supervisor, the one conversation they chose to watch.
"""

import json
import logging
import time
import uuid
from importlib import import_module
from types import SimpleNamespace

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user

from helpline.access import role_of, session_is_verified
from helpline.models import Role
from helpline.realtime import (
    contact_group,
    database_call,
    line_group,
    socket_unwatch,
    socket_watch,
    staff_group,
)
from helpline.selectors import contacts_visible_to, contacts_writable_by

logger = logging.getLogger(__name__)

# Application close codes (4000-4999), modelled on HTTP 401 and 403, so the page
# can tell "log in again" from a network drop and stop reconnecting.
CLOSE_UNVERIFIED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RECONNECT = 4000
CONSOLE_ROLES = (Role.COUNSELLOR, Role.SUPERVISOR)
# Only these keys ever reach the browser, whatever a future event carries.
FORWARDED_KEYS = ("contact_id", "message_id", "line_id", "staff_id")
# How often the session is checked again while the socket is open (logout, expiry, password change).
RECHECK_SECONDS = 60
MAX_FRAME_CHARS = 1024


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.joined: set[str] = set()
        self.held: set[str] = set()
        self.watched: str | None = None
        identity = await self._identify()
        if isinstance(identity, int):
            # Accept first, then close with a code: a refusal before the handshake reaches
            # the browser only as an anonymous failure, and it would keep retrying.
            await self.accept()
            await self.close(code=identity)
            return
        self.staff_id, self.role, self.line_ids = identity
        self.checked_at = time.monotonic()
        self.held = await self._held_contacts()
        # Groups first, then the handshake: the page reloads everything when the socket
        # opens, so nothing announced after that reload can be missed. If the channel
        # layer is down this fails before the handshake and the page backs off.
        await self._sync_groups()
        await self.accept()
        socket_watch(self)

    async def disconnect(self, code):
        socket_unwatch(self)
        for group in list(getattr(self, "joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = set()

    # --- from the browser ---------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not hasattr(self, "staff_id"):
            return
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self.send_json({"type": "error", "code": "bad_frame"})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "bad_frame"})
            return
        if isinstance(content, dict) and content.get("type") == "watch":
            await self._watch(content.get("contact_id"))
        else:
            await self.send_json({"type": "error", "code": "unknown_type"})

    async def _watch(self, contact_id) -> None:
        """A supervisor follows one conversation of their lines (read-along); ``null`` stops."""
        if self.role != Role.SUPERVISOR:
            await self.send_json({"type": "error", "code": "not_allowed"})
            return
        if contact_id is None:
            self.watched = None
        else:
            try:
                contact_id = str(uuid.UUID(str(contact_id)))
            except ValueError:
                await self.send_json({"type": "error", "code": "not_allowed"})
                return
            if not await self._may_watch(contact_id):
                await self.send_json({"type": "error", "code": "not_allowed"})
                return
            self.watched = contact_id
        await self._sync_groups()
        await self.send_json({"type": "watching", "contact_id": self.watched})

    # --- from the channel layer (helpline.realtime) -----------------------------------------

    async def dispatch(self, message):
        # An event type this console has no use for (a new one another app added to a
        # contact group) is ignored instead of closing the socket.
        try:
            handler = get_handler_name(message)
        except ValueError:
            return
        if not hasattr(self, handler):
            logger.debug("Console ignores %s", message.get("type"))
            return
        await super().dispatch(message)

    async def queue_changed(self, event):
        await self._forward(event)

    async def staff_changed(self, event):
        if event.get("staff_id") == self.staff_id:
            await self._refresh_held()
        await self._forward(event)

    async def contact_assigned(self, event):
        await self._refresh_held()
        await self._forward(event)

    async def contact_message(self, event):
        await self._forward(event)

    async def message_status(self, event):
        await self._forward(event)

    async def contact_ended(self, event):
        await self._forward(event)

    async def risk_confirmed(self, event):
        # Supervisors of the line are alerted; a counsellor's page refreshes what shows the flag.
        await self._forward(event)

    async def risk_cleared(self, event):
        await self._forward(event)

    async def alert_changed(self, event):
        # An outer app's alert for supervisors (helpline.alerts): only their pages refresh.
        if getattr(self, "role", None) == Role.SUPERVISOR:
            await self._forward(event)

    async def todo_changed(self, event):
        # Something waiting for this person (staff_id) or for their lines' team (line_id): helpline.todo.
        await self._forward(event)

    async def survey_start(self, event):
        """The child's survey is theirs alone: the console is not told."""

    async def _forward(self, event) -> None:
        if not hasattr(self, "staff_id"):
            return
        if time.monotonic() - self.checked_at > RECHECK_SECONDS:
            identity = await self._identify(fresh=True)
            if isinstance(identity, int):
                await self.close(code=identity)
                return
            if identity != (self.staff_id, self.role, self.line_ids):
                # Role or lines changed: the page reconnects and joins the right groups.
                await self.close(code=CLOSE_RECONNECT)
                return
            self.checked_at = time.monotonic()
        payload = {"type": event["type"]}
        for key in FORWARDED_KEYS:
            value = event.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                payload[key] = value
        await self.send_json(payload)

    # --- groups -------------------------------------------------------------------------

    async def _refresh_held(self) -> None:
        self.held = await self._held_contacts()
        await self._sync_groups()

    async def _sync_groups(self) -> None:
        wanted = {staff_group(self.staff_id), *(line_group(line_id) for line_id in self.line_ids)}
        wanted |= {contact_group(contact_id) for contact_id in self.held}
        if self.watched:
            wanted.add(contact_group(self.watched))
        for group in wanted - self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        for group in self.joined - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = wanted

    # --- database -------------------------------------------------------------------------

    @database_call
    def _identify(self, *, fresh: bool = False):
        """(staff id, role, line ids) of a verified console user, else the close code.

        ``fresh`` reads the session and user again from the database, as a new
        request would, so a logout, an expired session or a changed password ends the socket.
        """
        session = self.scope.get("session")
        user = self.scope.get("user")
        if fresh:
            session_key = getattr(session, "session_key", None)
            if not session_key:
                return CLOSE_UNVERIFIED
            session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
            user = get_user(SimpleNamespace(session=session))
        if not session_is_verified(user, session):
            return CLOSE_UNVERIFIED
        if role_of(user) not in CONSOLE_ROLES:
            return CLOSE_FORBIDDEN
        staff = user.staff
        return staff.pk, staff.role, tuple(sorted(staff.lines.values_list("pk", flat=True)))

    @database_call
    def _held_contacts(self) -> set[str]:
        return {str(pk) for pk in contacts_writable_by(self.scope["user"]).values_list("pk", flat=True)}

    @database_call
    def _may_watch(self, contact_id: str) -> bool:
        return contacts_visible_to(self.scope["user"]).filter(pk=contact_id).exists()
