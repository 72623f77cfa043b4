"""The channel layer's one-trip group_send queues what channels_redis's own would, and survives Redis
losing its scripts (a restart)."""

import asyncio
import os

import pytest
from channels_redis.core import RedisChannelLayer as StockLayer

from helpline.layers import RedisChannelLayer

CONFIG = {"hosts": [os.environ.get("REDIS_URL", "")], "prefix": "layertest", "expiry": 60}


@pytest.fixture
async def layers():
    ours, stock, other_process = RedisChannelLayer(**CONFIG), StockLayer(**CONFIG), RedisChannelLayer(**CONFIG)
    yield ours, stock, other_process
    await ours.flush()
    for layer in (ours, stock, other_process):
        await layer.close_pools()


async def receive(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), 5)


async def nothing(layer, channel):
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.3)
    return True


async def test_every_member_gets_the_event_once_as_from_channels_redis(layers):
    ours, stock, other_process = layers
    here = [await ours.new_channel(), await ours.new_channel()]  # one Redis key: this process's
    there = await other_process.new_channel()
    for channel in (*here, there, "plain.channel"):
        await ours.group_add("contact-1", channel)
    event = {"type": "contact.message", "contact_id": "c1", "message_id": "m1", "direction": "out", "n": 3}

    await ours.group_send("contact-1", event)
    assert [await receive(ours, channel) for channel in here] == [event, event]
    assert await receive(other_process, there) == event
    assert await receive(ours, "plain.channel") == event
    assert await nothing(ours, here[0]) and await nothing(other_process, there)

    await stock.group_send("contact-1", event)  # the same bytes on the wire: read alike
    assert [await receive(ours, channel) for channel in here] == [event, event]
    assert await receive(other_process, there) == event


async def test_a_channel_at_capacity_gets_nothing_more_and_left_members_nothing(layers):
    ours, _stock, _other = layers
    ours.capacity = 2
    full, gone = await ours.new_channel(), await ours.new_channel()
    await ours.group_add("line-1", full)
    await ours.group_add("line-1", gone)
    await ours.group_discard("line-1", gone)
    for n in range(3):
        await ours.group_send("line-1", {"type": "queue.changed", "n": n})
    assert [(await receive(ours, full))["n"] for _ in range(2)] == [0, 1]
    assert await nothing(ours, full) and await nothing(ours, gone)


async def test_a_redis_that_lost_its_scripts_is_given_it_again(layers):
    ours, _stock, _other = layers
    channel = await ours.new_channel()
    await ours.group_add("staff-1", channel)
    await ours.group_send("staff-1", {"type": "staff.changed", "n": 1})
    await ours.connection(0).script_flush()  # as after a restart
    await ours.group_send("staff-1", {"type": "staff.changed", "n": 2})
    assert [(await receive(ours, channel))["n"] for _ in range(2)] == [1, 2]
