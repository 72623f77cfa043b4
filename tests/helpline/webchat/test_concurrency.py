"""Many conversations at once: every message stored and announced once, in order, in both directions.

The consumers' database work runs on a thread pool (helpline.realtime.database_call), so
conversations go ahead in parallel; these tests check that nothing is lost, repeated or
reordered within a conversation when they do.
"""

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer

from helpline.models import Contact, Message
from helpline.realtime import contact_group, database_call
from helpline.services.outbound import message_send
from helpline.vault.services import unseal
from tests.helpline.webchat.conftest import Child, new_token

pytestmark = pytest.mark.django_db(transaction=True)

CONVERSATIONS = 20
MESSAGES = 6


@database_call
def contact_of(token):
    from helpline.services.inbound import sender_index_for

    return str(Contact.objects.get(sender_index=sender_index_for(channel="webchat", address=token)).pk)


@database_call
def stored(contact_id, direction):
    messages = Message.objects.filter(contact_id=contact_id, direction=direction).select_related("contact__data_key")
    return [unseal(message, "body") for message in messages.order_by("created_at", "pk")]


async def open_children(count):
    children = []
    for _ in range(count):
        tab = Child()
        assert (await tab.connect())[0]
        token = new_token()
        assert (await tab.hello(token, language="en"))["type"] == "ready"
        children.append((tab, await contact_of(token)))
    return children


async def listen(contact_ids):
    """A channel in every contact group, as a counsellor's console is."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    for contact_id in contact_ids:
        await layer.group_add(contact_group(contact_id), channel)
    return layer, channel


async def frames_until(tab, count, kind):
    frames = []
    while len(frames) < count:
        frame = await tab.receive(timeout=15)
        if frame["type"] == kind:
            frames.append(frame)
    return frames


async def test_children_writing_at_once_are_each_stored_and_announced_once_in_order(chat_endpoint):
    children = await open_children(CONVERSATIONS)
    layer, console = await listen([contact_id for _tab, contact_id in children])

    async def write(tab, n):
        acks = []
        for i in range(MESSAGES):
            client_id = str(uuid.uuid4())
            await tab.send({"type": "message", "id": client_id, "body": f"child {n} message {i}"})
            [ack] = await frames_until(tab, 1, "ack")
            acks.append(ack["id"] == client_id)
        return acks

    results = await asyncio.gather(*(write(tab, n) for n, (tab, _contact) in enumerate(children)))
    assert all(all(acks) for acks in results)

    announced: dict[str, list[str]] = {}
    for _ in range(CONVERSATIONS * MESSAGES):
        event = await asyncio.wait_for(layer.receive(console), 15)
        assert event["type"] == "contact.message"
        announced.setdefault(event["contact_id"], []).append(event["message_id"])
    for n, (tab, contact_id) in enumerate(children):
        assert await stored(contact_id, "in") == [f"child {n} message {i}" for i in range(MESSAGES)]
        ids = await database_call(
            lambda contact_id=contact_id: [
                str(pk)
                for pk in Message.objects.filter(contact_id=contact_id)
                .order_by("created_at", "pk")
                .values_list("pk", flat=True)
            ]
        )()
        assert announced[contact_id] == ids  # each once, in the order stored
        await tab.close()


async def test_replies_to_many_children_at_once_arrive_once_in_order_at_the_right_child(chat_endpoint, counsellor):
    children = await open_children(CONVERSATIONS)

    @database_call
    def send(contact_id, body):
        return message_send(contact=Contact.objects.get(pk=contact_id), body=body, author=counsellor.staff)

    async def answer(n, contact_id):
        for i in range(MESSAGES):
            await send(contact_id, f"reply {i} to child {n}")

    await asyncio.gather(*(answer(n, contact_id) for n, (_tab, contact_id) in enumerate(children)))
    for n, (tab, contact_id) in enumerate(children):
        frames = await frames_until(tab, MESSAGES, "message")
        assert [frame["body"] for frame in frames] == [f"reply {i} to child {n}" for i in range(MESSAGES)]
        assert await tab.nothing(timeout=0.2)  # none twice, none of another child's
        assert await stored(contact_id, "out") == [f"reply {i} to child {n}" for i in range(MESSAGES)]
        await tab.close()
    statuses = await database_call(lambda: set(Message.objects.values_list("status", flat=True)))()
    assert statuses == {"delivered"}  # without any worker
