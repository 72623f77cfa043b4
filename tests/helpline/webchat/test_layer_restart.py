"""When the channel layer loses its state, every socket is closed so its page reconnects and reloads.

A Redis restarted without persistence keeps no group memberships: sockets that stayed open
would be told nothing more, and a reply marked delivered would never reach the child's
screen. Each server process watches the layer's epoch (helpline.realtime.socket_watch); here
the test's Redis database is flushed, which is what a restarted empty Redis looks like to
the layer, or another process writes a new epoch, as one does after a notification it
could not send. ``bench/drill_redis.py`` does the same with a real Redis killed and
restarted under 200 live conversations.
"""

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer

from helpline.models import Contact
from helpline.realtime import CLOSE_LAYER_RESTART, layer_epochs, layer_watch_checks
from helpline.services.outbound import message_send
from tests.helpline.console.conftest import child_writes, client_for, held_by, sender_of
from tests.helpline.console.test_consumer import Console
from tests.helpline.webchat.conftest import new_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def watched_quickly(settings):
    settings.HELPLINE_LAYER_WATCH_SECONDS = 0.05
    layer = get_channel_layer()
    if not hasattr(layer, "connection"):
        pytest.fail("these tests need the Redis channel layer (make test sets REDIS_URL)")
    return layer


async def watcher_running(layer):
    """Wait until this process's watcher has read the epoch at least once since the sockets opened."""
    start = layer_watch_checks()
    for _ in range(200):
        if layer_watch_checks() >= start + 2:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the layer watcher never read the epoch")


async def close_code(tab):
    """The code the server closed the child's socket with (frames sent before it are skipped)."""
    output = await tab.communicator.receive_output(timeout=5)
    while output["type"] != "websocket.close":
        output = await tab.communicator.receive_output(timeout=5)
    return output["code"]


async def next_reply(tab):
    """The next counsellor's message on the child's screen."""
    frame = await tab.receive()
    while (frame["type"], frame.get("direction")) != ("message", "out"):
        frame = await tab.receive()
    return frame


@sync_to_async
def contact_of(token):
    from helpline.services.inbound import sender_index_for

    return Contact.objects.get(sender_index=sender_index_for(channel="webchat", address=token))


@sync_to_async
def reply(contact, body, author):
    return message_send(contact=contact, body=body, author=author.staff)


async def test_a_redis_that_lost_its_state_closes_every_socket_and_nothing_is_lost(
    watched_quickly, chat_endpoint, child, counsellor
):
    layer = watched_quickly
    token = new_token()
    tab = await child(token=token, language="en")
    contact = await contact_of(token)
    await sync_to_async(held_by)(counsellor, contact)
    browser = await sync_to_async(client_for)(counsellor)
    console = await Console(browser).open()
    await watcher_running(layer)

    await layer.connection(0).flushdb()  # Redis came back empty: no group knows these sockets any more

    assert await close_code(tab) == CLOSE_LAYER_RESTART
    assert await console.closed_with() == CLOSE_LAYER_RESTART
    await tab.close()

    # While the pages reconnect, the counsellor answers: delivered to a group nobody is in yet.
    answer = await reply(contact, "I'm still here. Take your time.", counsellor)

    again = await child(token=token, language="en")
    # On the child's screen once: in the replayed history, or just after it if its delivery was still under way.
    shown = [frame["id"] for frame in again.ready["history"] if frame["direction"] == "out"]
    if str(answer.pk) not in shown:
        shown += [(await next_reply(again))["id"]]
    assert shown.count(str(answer.pk)) == 1
    console = await Console(browser).open()
    # The reconnected sockets are in their groups again: the next message reaches both.
    await sync_to_async(child_writes)(chat_endpoint, "are you there?", token=await sync_to_async(sender_of)(contact))
    events = await console.events()
    assert [event["type"] for event in events if event["type"] == "contact.message"] == ["contact.message"]
    late = await reply(contact, "Yes, I'm here.", counsellor)
    frame = await next_reply(again)
    assert (frame["id"], frame["body"]) == (str(late.pk), "Yes, I'm here.")
    await console.close()


async def test_a_new_epoch_from_another_process_makes_this_ones_sockets_reconnect(
    watched_quickly, chat_endpoint, child, counsellor
):
    layer = watched_quickly
    tab = await child(token=new_token(), language="en")
    console = await Console(await sync_to_async(client_for)(counsellor)).open()
    await watcher_running(layer)

    # Another process could not deliver a notification; once Redis answered again it wrote a new epoch.
    await layer_epochs(layer, renew=True)

    assert await close_code(tab) == CLOSE_LAYER_RESTART
    assert await console.closed_with() == CLOSE_LAYER_RESTART


async def test_a_steady_layer_leaves_the_sockets_open(watched_quickly, chat_endpoint, child, counsellor):
    layer = watched_quickly
    tab = await child(token=new_token(), language="en")
    await watcher_running(layer)
    await tab.send({"type": "message", "id": str(uuid.uuid4()), "body": "hello"})
    assert (await tab.receive())["type"] == "ack"
    assert await tab.nothing(timeout=0.5)  # ten checks of the epoch, no close
