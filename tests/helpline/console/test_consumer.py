"""The consoles' WebSocket: who may connect, which events reach whom, ids only, and reloading after a drop."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from helpline.models import Staff
from helpline.services.queue import contact_accept, contact_transfer, presence_set
from tests.helpline.console.conftest import child_writes, client_for, held_by, password_only_client, sender_of

pytestmark = [pytest.mark.django_db(transaction=True)]

ID_KEYS = {"type", "contact_id", "message_id", "line_id", "staff_id"}


class Console:
    """One console page's socket, opened with the session cookie of a logged-in browser."""

    def __init__(self, client):
        from config.asgi import application

        cookie = f"sessionid={client.cookies['sessionid'].value}" if "sessionid" in client.cookies else ""
        self.communicator = WebsocketCommunicator(
            application, "/ws/console/", headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]
        )
        self.frames: list[str] = []

    async def open(self):
        connected, _ = await self.communicator.connect(timeout=5)
        assert connected
        return self

    async def closed_with(self) -> int | None:
        output = await self.communicator.receive_output(timeout=5)
        await self.communicator.disconnect()  # as the browser's side of the close does
        return output.get("code") if output["type"] == "websocket.close" else None

    async def events(self, wait=0.6) -> list[dict]:
        """Everything that arrives within ``wait`` seconds of quiet."""
        received = []
        while not await self.communicator.receive_nothing(timeout=wait):
            text = (await self.communicator.receive_output(timeout=1))["text"]
            self.frames.append(text)
            received.append(json.loads(text))
        return received

    async def send(self, frame):
        await self.communicator.send_json_to(frame)

    async def close(self):
        await self.communicator.disconnect()


async def console_for(user) -> Console:
    client = await sync_to_async(client_for)(user)
    return await Console(client).open()


async def _settle():
    # Group membership is set up right after the handshake; give it a moment.
    await asyncio.sleep(0.2)


def _of_type(events, kind):
    return [event for event in events if event["type"] == kind]


async def test_a_password_alone_is_refused(chat_endpoint, counsellor):
    client = await sync_to_async(password_only_client)(counsellor)
    console = await Console(client).open()
    assert await console.closed_with() == 4401


async def test_anonymous_is_refused(demo_line):
    from django.test import Client

    console = await Console(Client()).open()
    assert await console.closed_with() == 4401


@pytest.mark.parametrize("role_fixture", ["authority", "admin_user", "outsider"])
async def test_people_without_a_console_role_are_refused(request, demo_line, role_fixture):
    user = await sync_to_async(request.getfixturevalue)(role_fixture)
    console = await console_for(user)
    assert await console.closed_with() == 4403


async def test_a_counsellor_hears_of_their_own_contact_only_and_only_by_id(chat_endpoint, counsellor, colleague):
    mine = await sync_to_async(held_by)(counsellor, await sync_to_async(child_writes)(chat_endpoint, "one"))
    theirs = await sync_to_async(held_by)(colleague, await sync_to_async(child_writes)(chat_endpoint, "two"))
    console = await console_for(counsellor)
    await _settle()

    await sync_to_async(child_writes)(chat_endpoint, "secret words", token=await sync_to_async(sender_of)(mine))
    await sync_to_async(child_writes)(chat_endpoint, "other words", token=await sync_to_async(sender_of)(theirs))
    events = await console.events()

    messages = _of_type(events, "contact.message")
    assert [event["contact_id"] for event in messages] == [str(mine.pk)]
    # Messages in conversations already held leave the queue as it is: no queue-wide event.
    assert not _of_type(events, "queue.changed")
    assert all(set(event) <= ID_KEYS for event in events)
    assert not any("secret" in frame or "other words" in frame for frame in console.frames)
    await console.close()


async def test_memberships_follow_accepting_and_transferring(chat_endpoint, counsellor, supervisor):
    console = await console_for(counsellor)
    await _settle()
    staff = await sync_to_async(Staff.objects.get)(user=counsellor)
    waiting = await sync_to_async(child_writes)(chat_endpoint, "hello")
    await sync_to_async(presence_set)(staff=staff, presence="available")
    await sync_to_async(contact_accept)(staff=staff, contact_id=waiting.pk)
    events = await console.events()
    assert {"type": "staff.changed", "staff_id": staff.pk} in events

    token = await sync_to_async(sender_of)(waiting)
    await sync_to_async(child_writes)(chat_endpoint, "still there?", token=token)
    assert _of_type(await console.events(), "contact.message")[0]["contact_id"] == str(waiting.pk)

    target = await sync_to_async(Staff.objects.get)(user=supervisor)
    await sync_to_async(contact_transfer)(actor=staff, contact=waiting, to_staff=target, note="over to you")
    assert {"type": "contact.assigned", "contact_id": str(waiting.pk)} in await console.events()
    await sync_to_async(child_writes)(chat_endpoint, "hello again", token=token)
    assert not _of_type(await console.events(), "contact.message")
    await console.close()


async def test_a_supervisor_watches_a_conversation_of_their_lines_only(
    chat_endpoint, other_endpoint, counsellor, supervisor
):
    contact = await sync_to_async(held_by)(counsellor, await sync_to_async(child_writes)(chat_endpoint, "hi"))
    elsewhere = await sync_to_async(child_writes)(other_endpoint, "hi")
    console = await console_for(supervisor)
    await _settle()

    await console.send({"type": "watch", "contact_id": str(elsewhere.pk)})
    assert await console.events() == [{"type": "error", "code": "not_allowed"}]
    await console.send({"type": "watch", "contact_id": "not-an-id"})
    assert await console.events() == [{"type": "error", "code": "not_allowed"}]
    await console.send({"type": "watch", "contact_id": str(contact.pk)})
    assert await console.events() == [{"type": "watching", "contact_id": str(contact.pk)}]

    await sync_to_async(child_writes)(chat_endpoint, "more", token=await sync_to_async(sender_of)(contact))
    assert _of_type(await console.events(), "contact.message")[0]["contact_id"] == str(contact.pk)

    await console.send({"type": "watch", "contact_id": None})
    await console.events()
    await sync_to_async(child_writes)(chat_endpoint, "and more", token=await sync_to_async(sender_of)(contact))
    assert not _of_type(await console.events(), "contact.message")
    await console.close()


async def test_a_counsellor_cannot_watch(chat_endpoint, counsellor, colleague):
    theirs = await sync_to_async(held_by)(colleague, await sync_to_async(child_writes)(chat_endpoint, "hi"))
    console = await console_for(counsellor)
    await console.send({"type": "watch", "contact_id": str(theirs.pk)})
    assert await console.events() == [{"type": "error", "code": "not_allowed"}]
    await console.close()


async def test_garbage_frames_do_not_break_the_socket(chat_endpoint, counsellor):
    contact = await sync_to_async(held_by)(counsellor, await sync_to_async(child_writes)(chat_endpoint, "hi"))
    console = await console_for(counsellor)
    await _settle()
    await console.communicator.send_to(text_data="{not json")
    await console.communicator.send_to(text_data="x" * 5000)
    await console.send({"type": "subscribe", "group": "line-1"})
    assert [event["code"] for event in await console.events()] == ["bad_frame", "bad_frame", "unknown_type"]
    await sync_to_async(child_writes)(chat_endpoint, "still alive", token=await sync_to_async(sender_of)(contact))
    assert _of_type(await console.events(), "contact.message")
    await console.close()


async def test_after_a_dropped_event_the_reloaded_pane_has_the_message(chat_endpoint, counsellor):
    contact = await sync_to_async(held_by)(counsellor, await sync_to_async(child_writes)(chat_endpoint, "first"))
    client = await sync_to_async(client_for)(counsellor)
    console = await Console(client).open()
    await _settle()
    await console.close()  # the network drops

    # Written while nobody listened: the event is lost for good.
    await sync_to_async(child_writes)(
        chat_endpoint, "written during the drop", token=await sync_to_async(sender_of)(contact)
    )

    console = await Console(client).open()  # the page reconnects ...
    await _settle()
    assert await console.events() == []  # ... and hears nothing of what it missed,
    # so it re-fetches its fragments, which read the database.
    response = await sync_to_async(client.get)(f"/console/c/{contact.pk}/live/", HTTP_HX_REQUEST="true")
    assert "written during the drop" in response.content.decode()
    await console.close()


async def test_a_session_that_ends_closes_the_socket(chat_endpoint, counsellor, settings, monkeypatch):
    from helpline import consumers

    contact = await sync_to_async(held_by)(counsellor, await sync_to_async(child_writes)(chat_endpoint, "hi"))
    client = await sync_to_async(client_for)(counsellor)
    console = await Console(client).open()
    await _settle()
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0)
    await sync_to_async(client.post)("/logout/")

    await sync_to_async(child_writes)(chat_endpoint, "hello", token=await sync_to_async(sender_of)(contact))

    assert await console.closed_with() == 4401


async def test_an_alert_of_another_app_reaches_the_lines_supervisors_only_as_an_id(
    demo_line, counsellor, supervisor, far_supervisor
):
    from django.db import transaction

    from helpline.alerts import supervisor_alerts_changed

    line = demo_line
    watching, counselling, far = (
        await console_for(supervisor),
        await console_for(counsellor),
        await console_for(far_supervisor),
    )
    await _settle()

    def announce():
        with transaction.atomic():
            supervisor_alerts_changed(line_id=line.pk)

    await sync_to_async(announce)()
    assert _of_type(await watching.events(), "alert.changed") == [{"type": "alert.changed", "line_id": line.pk}]
    assert not _of_type(await counselling.events(), "alert.changed")  # counsellors' pages have no use for it
    assert not _of_type(await far.events(), "alert.changed")  # another line's supervisor is not told
    for console in (watching, counselling, far):
        await console.close()
