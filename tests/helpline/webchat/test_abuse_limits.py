"""What keeps the public chat safe from scripts and from whoever picks up a closed tab."""

from datetime import timedelta

import pytest
import redis
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.utils import timezone

from helpline.models import Contact
from helpline.webchat.options import RESUME_ENDED_SECONDS
from tests.helpline.webchat.conftest import Child, new_token

pytestmark = pytest.mark.django_db(transaction=True)


async def tab_from(address):
    tab = Child()
    tab.communicator.scope["client"] = (address, 50000)
    connected, _code = await tab.connect()
    assert connected
    return tab


async def test_one_address_cannot_fill_the_queue(chat_endpoint, settings):
    settings.HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS = limit = 5
    await database_sync_to_async(cache.clear)()
    for _ in range(limit):
        tab = await tab_from("203.0.113.7")
        assert (await tab.hello(new_token()))["type"] == "ready"
        await tab.close()
    refused = await tab_from("203.0.113.7")
    frame = await refused.hello(new_token())
    assert frame["type"] == "error" and frame["code"] == "busy"
    assert await database_sync_to_async(Contact.objects.count)() == limit
    # Another network is not affected.
    other = await tab_from("198.51.100.9")
    assert (await other.hello(new_token()))["type"] == "ready"
    await other.close()


async def test_a_long_ended_conversation_is_not_shown_to_whoever_reopens_the_tab(chat_endpoint):
    token = new_token()
    first = await tab_from("192.0.2.1")
    await first.hello(token)
    await first.send({"type": "message", "id": "3f5c2f4e-9a47-4c1b-9a64-2d7f7b0d6a11", "body": "my secret"})
    assert (await first.receive())["type"] == "ack"
    await first.close()

    @database_sync_to_async
    def end_long_ago():
        ended = timezone.now() - timedelta(seconds=RESUME_ENDED_SECONDS + 60)
        Contact.objects.update(status="closed", ended_at=ended)

    await end_long_ago()
    reopened = await tab_from("192.0.2.1")
    ready = await reopened.hello(token)
    assert ready["type"] == "ready" and ready["history"] == [] and ready["status"] == "waiting"
    assert await database_sync_to_async(Contact.objects.count)() == 2
    await reopened.close()


async def test_the_message_limit_is_counted_in_redis_from_the_event_loop(chat_endpoint, settings):
    """Production's cache: the count is one awaited redis.asyncio round trip, shared with the sync cache."""
    from django.core.cache import caches

    from helpline.services.inbound import sender_index_for
    from helpline.webchat.options import MESSAGES_PER_WINDOW, RATE_WINDOW_SECONDS
    from helpline.webchat.services import WebChatError, webchat_message_admit

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "test-limits",
        }
    }
    token = new_token()
    key = f"webchat:msgs:{await database_sync_to_async(sender_index_for)(channel='webchat', address=token)}"
    await database_sync_to_async(caches["default"].delete)(key)
    frame = {"token": token, "client_id": "3f5c2f4e-9a47-4c1b-9a64-2d7f7b0d6a11"}
    with pytest.raises(WebChatError) as empty:
        await webchat_message_admit(**frame, body="   ")
    assert empty.value.code == "empty"  # a refused frame is not counted
    for _ in range(MESSAGES_PER_WINDOW):
        await webchat_message_admit(**frame, body="hello")
    with pytest.raises(WebChatError) as refused:
        await webchat_message_admit(**frame, body="hello")
    assert refused.value.code == "slow_down"
    assert await database_sync_to_async(caches["default"].get)(key) == MESSAGES_PER_WINDOW + 1
    full_key = caches["default"].make_and_validate_key(key)
    ttl = await database_sync_to_async(lambda: redis.Redis.from_url(settings.REDIS_URL).ttl(full_key))()
    assert 0 < ttl <= RATE_WINDOW_SECONDS
    await database_sync_to_async(caches["default"].delete)(key)
