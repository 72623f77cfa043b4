"""The channel layer (``CHANNEL_LAYERS`` in production): channels_redis's, with ``group_send`` in one round trip.

channels_redis 4 sends to a group in four round trips to Redis: drop the group's expired
members, read the members, drop each member channel's expired messages (a pipeline), then a
Lua script that queues the message on each member channel. Every reply and every child's
message is one ``group_send``, so here the four are one Lua script (EVALSHA), with the same
effects in the same order and the same bytes queued: for each Redis key of the members (one
per server process), the event with ``__asgi_channel__`` listing that key's members,
msgpack-encoded behind a random prefix, scored by the time, the key's expiry renewed, and
nothing queued on a key at capacity. The event is encoded here once; the script appends the
member list it found (a msgpack array of strings), so what the receiving side decodes is what
channels_redis's own ``group_send`` would have queued.

After a Redis restart the script is loaded again by the first call that finds it missing (redis-py's
``Script``). Configurations this does not cover (several Redis servers, encryption, per-channel
capacities, another serializer) use channels_redis's own ``group_send``.
"""

import logging
import random
import time

import msgpack
from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from channels_redis.serializers import MsgPackSerializer

logger = logging.getLogger(__name__)

# KEYS[1]: the group's key. ARGV: the layer's prefix, the encoded event up to its "__asgi_channel__" key,
# the random prefix, now (the members' and messages' score), the group's cutoff, the messages' cutoff,
# the channels' expiry in seconds, the capacity. Returns {channels over capacity, members}.
GROUP_SEND_SCRIPT = """
local prefix, head, random_prefix, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local expiry, capacity = ARGV[7], tonumber(ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[5])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local keys, names = {}, {}
for _, name in ipairs(members) do
    local bang = string.find(name, '!', 1, true)
    local key = prefix .. (bang and string.sub(name, 1, bang) or name)
    if names[key] == nil then
        names[key] = {}
        keys[#keys + 1] = key
    end
    table.insert(names[key], name)
end
local over_capacity = 0
for _, key in ipairs(keys) do
    redis.call('ZREMRANGEBYSCORE', key, 0, ARGV[6])
    if redis.call('ZCOUNT', key, '-inf', '+inf') < capacity then
        redis.call('ZADD', key, now, random_prefix .. head .. cmsgpack.pack(names[key]))
        redis.call('EXPIRE', key, expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return {over_capacity, #members}
"""

EMPTY_ARRAY = b"\x90"


class RedisChannelLayer(BaseRedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        serializer = self._serializer
        self._one_trip = (
            self.ring_size == 1
            and not self.channel_capacity
            and type(serializer) is MsgPackSerializer
            and serializer.crypter is None
        )
        self._script = None

    async def group_send(self, group, message):
        if not self._one_trip:
            return await super().group_send(group, message)
        assert self.require_valid_group_name(group), "Group name not valid"
        assert "__asgi_channel__" not in message
        encoded = msgpack.packb({**message, "__asgi_channel__": []})
        assert encoded.endswith(EMPTY_ARRAY)
        connection = self.connection(0)
        if self._script is None:
            self._script = connection.register_script(GROUP_SEND_SCRIPT)
        length = self._serializer.random_prefix_length
        now = time.time()
        over_capacity, members = await self._script(
            keys=[self._group_key(group)],
            args=[
                self.prefix,
                encoded[: -len(EMPTY_ARRAY)],
                random.getrandbits(8 * length).to_bytes(length, "big") if length else b"",
                now,
                int(now) - self.group_expiry,
                int(now) - int(self.expiry),
                int(self.expiry),
                self.capacity,
            ],
            client=connection,
        )
        if over_capacity > 0:
            logger.info("%s of %s channels over capacity in group %s", over_capacity, members, group)
