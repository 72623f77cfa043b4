"""A child's socket: hello, messages, resume, limits, closed lines, and counsellors' replies arriving."""

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection

from helpline.models import Contact, Message
from helpline.realtime import contact_group
from helpline.services.outbound import message_deliver_attempt, message_send
from helpline.vault.services import unseal
from helpline.webchat.options import MAX_BODY_CHARS, MESSAGES_PER_WINDOW
from tests.helpline.webchat.conftest import Child, new_token

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def message(body, client_id=None):
    return {"type": "message", "id": client_id or str(uuid.uuid4()), "body": body}


@db
def contacts():
    return list(Contact.objects.order_by("arrived_at"))


@db
def bodies(contact_id):
    return [
        (m.direction, unseal(m, "body"))
        for m in Message.objects.filter(contact_id=contact_id)
        .select_related("contact__data_key")
        .order_by("created_at")
    ]


@db
def message_count():
    return Message.objects.count()


@db
def reply(contact_id, body, author):
    return message_send(contact=Contact.objects.get(pk=contact_id), body=body, author=author.staff)


@db
def deliver(message_id):
    return message_deliver_attempt(message_id=str(message_id))


async def test_hello_opens_a_waiting_contact_with_the_language_and_age_band(chat_endpoint, child):
    tab = await child(token=new_token(), language="sw", age_band="10-12")
    assert tab.ready == {"type": "ready", "status": "waiting", "history": []}
    [contact] = await contacts()
    assert (contact.channel, contact.status, contact.language, contact.age_band) == (
        "webchat",
        "waiting",
        "sw",
        "10-12",
    )


async def test_unknown_language_and_age_band_are_not_stored(chat_endpoint, child):
    await child(token=new_token(), language="xx", age_band="<script>")
    [contact] = await contacts()
    assert contact.language == "en" and contact.age_band == ""  # the line's first language


async def test_message_is_acknowledged_and_stored_encrypted(chat_endpoint, child):
    token = new_token()
    tab = await child(token=token)
    client_id = str(uuid.uuid4())
    await tab.send(message("  someone is sending me pictures  ", client_id))
    assert await tab.receive() == {"type": "ack", "id": client_id}
    [contact] = await contacts()
    assert await bodies(contact.pk) == [("in", "someone is sending me pictures")]

    @db
    def dump():
        with connection.cursor() as cursor:
            rows = []
            for table in ("helpline_message", "helpline_contact"):
                cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
                rows.append(repr(cursor.fetchall()))
            return "".join(rows)

    stored = await dump()
    assert "sending me pictures" not in stored and token not in stored
    assert client_id in stored  # the provider id is the page's own random id, nothing about the child


async def test_reconnecting_with_the_same_token_resumes_and_replays_in_order(chat_endpoint, child, counsellor):
    token = new_token()
    first = await child(token=token)
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    await first.send(message("hello?", ids[0]))
    await first.receive()
    [contact] = await contacts()
    answer = await reply(contact.pk, "Hi, I'm here. What happened?", counsellor)
    await deliver(answer.pk)
    assert (await first.receive())["body"] == "Hi, I'm here. What happened?"
    await first.send(message("my friend posted a photo of me", ids[1]))
    await first.receive()
    await first.close()

    again = await child(token=token)
    assert again.ready["status"] == "waiting"
    history = again.ready["history"]
    assert [(frame["direction"], frame["body"]) for frame in history] == [
        ("in", "hello?"),
        ("out", "Hi, I'm here. What happened?"),
        ("in", "my friend posted a photo of me"),
    ]
    assert [history[0]["id"], history[2]["id"]] == ids  # the page knows its own messages by their ids
    assert len(await contacts()) == 1


async def test_a_new_token_is_a_new_conversation(chat_endpoint, child):
    first = await child(token=new_token())
    await first.send(message("first child"))
    await first.receive()
    second = await child(token=new_token())
    assert second.ready["history"] == []
    assert len(await contacts()) == 2


async def test_a_message_resent_after_reconnecting_is_stored_once(chat_endpoint, child):
    token = new_token()
    client_id = str(uuid.uuid4())
    first = await child(token=token)
    await first.send(message("did this go?", client_id))
    assert (await first.receive())["type"] == "ack"
    await first.close()
    again = await child(token=token)
    await again.send(message("did this go?", client_id))
    assert await again.receive() == {"type": "ack", "id": client_id}
    assert await message_count() == 1


async def test_another_conversations_message_id_reveals_nothing(chat_endpoint, child):
    someone = await child(token=new_token())
    client_id = str(uuid.uuid4())
    await someone.send(message("private words", client_id))
    await someone.receive()
    other = await child(token=new_token())
    await other.send(message("guess", client_id))
    frame = await other.receive()
    assert frame["type"] == "error" and frame["id"] == client_id and "private" not in str(frame)
    assert await message_count() == 1


async def test_too_long_body_gets_an_error_frame_and_is_not_stored(chat_endpoint, child):
    tab = await child(token=new_token(), language="en")
    client_id = str(uuid.uuid4())
    await tab.send(message("a" * (MAX_BODY_CHARS + 1), client_id))
    frame = await tab.receive()
    assert frame["type"] == "error" and frame["code"] == "too_long" and frame["id"] == client_id
    assert "1000 characters" in frame["message"]
    await tab.send(message("a" * MAX_BODY_CHARS))
    assert (await tab.receive())["type"] == "ack"
    assert await message_count() == 1


async def test_error_frames_speak_the_childs_language(chat_endpoint, child):
    tab = await child(token=new_token(), language="fr")
    await tab.send(message("   "))
    frame = await tab.receive()
    assert frame["code"] == "empty" and frame["message"] == "Écris d'abord un message."


async def test_sending_too_fast_is_slowed_down_and_stores_nothing_extra(chat_endpoint, child):
    tab = await child(token=new_token(), language="en")
    for n in range(MESSAGES_PER_WINDOW):
        await tab.send(message(f"message {n}"))
        assert (await tab.receive())["type"] == "ack"
    await tab.send(message("one too many"))
    frame = await tab.receive()
    assert frame["type"] == "error" and frame["code"] == "slow_down"
    assert frame["message"].startswith("Slow down a little")
    assert await message_count() == MESSAGES_PER_WINDOW


async def test_broken_frames_get_error_frames_and_the_socket_stays_open(chat_endpoint, child):
    tab = await child()
    await tab.send(message("before hello"))
    assert (await tab.receive())["code"] == "hello_first"
    await tab.hello(new_token())
    for text in ("{not json", "[1, 2]", '"text"', '{"type": "dance"}', '{"type": "message", "id": "x", "body": 3}'):
        await tab.send_text(text)
        frame = await tab.receive()
        assert frame["type"] == "error" and frame["code"] == "invalid", text
    await tab.send_text('{"type": "message", "body": "' + "x" * 20_000 + '"}')
    assert (await tab.receive())["code"] == "frame_too_large"
    await tab.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await tab.receive())["code"] == "invalid"
    await tab.send({"type": "ping"})
    assert await tab.receive() == {"type": "pong"}
    assert await message_count() == 0


async def test_a_flood_of_frames_closes_the_connection(chat_endpoint, child):
    tab = await child(token=new_token())
    for _ in range(60):
        await tab.send({"type": "ping"})
    seen = []
    while True:
        output = await tab.communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output["code"] == 4429
            break
        seen.append(output)
    assert len(seen) < 60


async def test_bad_token_is_refused(chat_endpoint, child):
    tab = await child()
    await tab.send({"type": "hello", "token": "not-random-enough"})
    assert (await tab.receive())["code"] == "invalid"
    assert (await tab.communicator.receive_output(timeout=5))["type"] == "websocket.close"
    assert await contacts() == []


async def test_unknown_line_refuses_the_handshake(chat_endpoint):
    from tests.helpline.webchat.conftest import Child

    connected, _code = await Child("nowhere").connect()
    assert not connected


async def test_out_of_hours_line_refuses_a_new_chat_politely(chat_endpoint, child, demo_line):
    @db
    def close_line():
        demo_line.opening_hours = {"mon": []}  # hours configured, none today or any day
        demo_line.out_of_hours_message = "We open at 8 tomorrow."
        demo_line.save()

    await close_line()
    tab = await child(token=new_token())
    assert tab.ready == {"type": "closed", "message": "We open at 8 tomorrow."}
    closing = await tab.communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close" and closing["code"] == 4000
    assert await contacts() == []


async def test_a_conversation_under_way_resumes_after_closing_time(chat_endpoint, child, demo_line):
    token = new_token()
    first = await child(token=token)
    await first.send(message("still there?"))
    await first.receive()
    await first.close()

    @db
    def close_line():
        demo_line.opening_hours = {"mon": []}
        demo_line.save()

    await close_line()
    again = await child(token=token)
    assert again.ready["type"] == "ready" and [f["body"] for f in again.ready["history"]] == ["still there?"]


async def test_a_reply_reaches_the_child_straight_after_commit_and_once(chat_endpoint, child, counsellor):
    tab = await child(token=new_token())
    [contact] = await contacts()
    layer = get_channel_layer()
    console = await layer.new_channel()  # as a counsellor's console, told of the delivered status
    await layer.group_add(contact_group(contact.pk), console)
    answer = await reply(contact.pk, "You did the right thing writing to us.", counsellor)
    # No worker has run: the reply is delivered right after its commit.
    frame = await tab.receive()
    assert frame == {
        "type": "message",
        "direction": "out",
        "id": str(answer.pk),
        "body": "You did the right thing writing to us.",
        "at": frame["at"],
    }  # no counsellor name, no author of any kind
    # The conversation's group hears of the reply once, when it is already recorded delivered
    # (a console refreshing on it shows "Delivered"): no "queued" event before it, no status event after.
    event = await layer.receive(console)
    assert event == {
        "type": "contact.message",
        "contact_id": str(contact.pk),
        "message_id": str(answer.pk),
        "direction": "out",
    }
    assert await db(lambda: Message.objects.get(pk=answer.pk).status)() == "delivered"
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(console), 0.5)
    # The queued task, run later as a crash fallback, finds it delivered and sends nothing.
    assert await deliver(answer.pk) == "skipped"
    assert await db(lambda: Message.objects.get(pk=answer.pk).status)() == "delivered"
    assert await tab.nothing(timeout=0.5)  # neither the task nor the "delivered" status repeats it


@db
def reply_left_by_a_crash(contact_id, body, author):
    """What a process that died right after committing a reply leaves: the message and its task, no delivery."""
    from django.db import transaction
    from django.utils import timezone

    from helpline.models.conversations import STATUS_RANK
    from helpline.outbox import outbox_enqueue
    from helpline.services.outbound import MESSAGE_OUTBOX
    from helpline.vault.services import seal

    with transaction.atomic():
        message = Message(
            contact=Contact.objects.get(pk=contact_id),
            channel="webchat",
            direction="out",
            author=author.staff,
            status="queued",
            status_rank=STATUS_RANK["queued"],
            next_attempt_at=timezone.now(),
        )
        seal(message, "body", body)
        message.save()
        outbox_enqueue(MESSAGE_OUTBOX, message.pk)
    return message


async def test_a_reply_whose_process_died_is_delivered_by_its_task_and_not_before(chat_endpoint, child, counsellor):
    tab = await child(token=new_token())
    [contact] = await contacts()
    answer = await reply_left_by_a_crash(contact.pk, "Are you still there?", counsellor)
    assert await tab.nothing(timeout=0.5)  # queued is not yet delivered
    assert await deliver(answer.pk) == "delivered"
    assert (await tab.receive())["body"] == "Are you still there?"
    assert await deliver(answer.pk) == "skipped"
    assert await tab.nothing(timeout=0.5)


async def test_a_reply_reaches_only_its_own_child(chat_endpoint, child, counsellor):
    ours = await child(token=new_token())
    theirs = await child(token=new_token())
    first, _second = await contacts()
    answer = await reply(first.pk, "only for the first child", counsellor)
    await deliver(answer.pk)
    assert (await ours.receive())["body"] == "only for the first child"
    assert await theirs.nothing(timeout=0.5)


async def test_status_changes_reach_the_page_whatever_the_event_is_called(chat_endpoint, child):
    tab = await child(token=new_token())
    [contact] = await contacts()

    @db
    def accept():
        Contact.objects.filter(pk=contact.pk).update(status="active")

    await accept()
    await get_channel_layer().group_send(
        contact_group(contact.pk), {"type": "contact.accepted", "contact_id": str(contact.pk)}
    )
    assert await tab.receive() == {"type": "status", "status": "active"}
    await tab.send({"type": "ping"})
    assert await tab.receive() == {"type": "pong"}  # the unknown event did not end the connection


async def test_writing_after_the_conversation_ended_opens_a_new_one(chat_endpoint, child):
    token = new_token()
    tab = await child(token=token)
    await tab.send(message("first time"))
    await tab.receive()
    [old] = await contacts()

    @db
    def end():
        from django.utils import timezone

        Contact.objects.filter(pk=old.pk).update(status="closed", ended_at=timezone.now())

    await end()
    await tab.close()
    again = await child(token=token)
    assert again.ready["status"] == "closed" and len(again.ready["history"]) == 1
    assert len(await contacts()) == 1  # reloading an ended chat does not queue anyone
    client_id = str(uuid.uuid4())
    await again.send(message("me again", client_id))
    assert await again.receive() == {"type": "status", "status": "waiting"}
    assert await again.receive() == {"type": "ack", "id": client_id}
    old_contact, new_contact = await contacts()
    assert new_contact.status == "waiting" and await bodies(new_contact.pk) == [("in", "me again")]


async def test_an_event_with_a_malformed_message_id_does_not_end_the_connection(chat_endpoint, child):
    tab = await child(token=new_token())
    [contact] = await contacts()
    for message_id in ("not-a-uuid", str(uuid.uuid4()), None):
        await get_channel_layer().group_send(
            contact_group(contact.pk),
            {"type": "contact.message", "contact_id": str(contact.pk), "message_id": message_id},
        )
    await tab.send({"type": "ping"})
    assert await tab.receive() == {"type": "pong"}


async def test_a_reply_delivered_at_once_is_claimed_and_recorded_in_one_transaction(chat_endpoint, child, counsellor):
    from helpline.outbox import outbox_attempt_async
    from helpline.services.outbound import MESSAGE_OUTBOX

    tab = await child(token=new_token())
    [contact] = await contacts()
    answer = await reply_left_by_a_crash(contact.pk, "One transaction", counsellor)
    assert await outbox_attempt_async(outbox=MESSAGE_OUTBOX, item_id=str(answer.pk)) == "sent"
    stored = await db(lambda: Message.objects.get(pk=answer.pk))()
    assert (stored.status, stored.attempts, stored.claimed_at) == ("delivered", 1, None)
    assert (await tab.receive())["body"] == "One transaction"
    assert await tab.nothing(timeout=0.5)  # one event, shown once
    assert await outbox_attempt_async(outbox=MESSAGE_OUTBOX, item_id=str(answer.pk)) == "skipped"
    assert await deliver(answer.pk) == "skipped"


async def test_the_one_statement_claim_takes_only_a_queued_due_reply_of_its_own_conversation(
    chat_endpoint, child, counsellor
):
    from datetime import timedelta

    from django.utils import timezone

    from helpline.outbox import outbox_attempt_async
    from helpline.services.outbound import MESSAGE_OUTBOX

    tab = await child(token=new_token())
    [contact] = await contacts()
    answer = await reply_left_by_a_crash(contact.pk, "Now it goes", counsellor)
    ids = {"message_id": str(answer.pk), "channel": "webchat"}
    payload = MESSAGE_OUTBOX.ids_only_payload(contact_id=str(contact.pk), **ids)

    async def attempt(payload):
        return await outbox_attempt_async(outbox=MESSAGE_OUTBOX, item_id=str(answer.pk), payload=payload)

    def stored(**values):
        return db(lambda: Message.objects.filter(pk=answer.pk).update(**values))()

    await stored(next_attempt_at=timezone.now() + timedelta(minutes=1))  # a retry, due later
    assert await attempt(payload) == "skipped"
    await stored(next_attempt_at=None, status="sending")  # a worker is sending it
    assert await attempt(payload) == "skipped"
    await stored(status="queued")
    assert await attempt(MESSAGE_OUTBOX.ids_only_payload(contact_id=str(uuid.uuid4()), **ids)) == "skipped"
    assert await tab.nothing(timeout=0.5)
    assert await attempt(payload) == "sent"
    assert (await tab.receive())["body"] == "Now it goes"
    message = await db(lambda: Message.objects.get(pk=answer.pk))()
    assert (message.status, message.attempts, message.claimed_at) == ("delivered", 1, None)
    assert message.next_attempt_at is None
    assert await attempt(payload) == "skipped"
    assert await tab.nothing(timeout=0.5)


async def test_a_reply_the_layer_refused_goes_back_to_its_task(chat_endpoint, counsellor, settings):
    from channels.layers import channel_layers
    from django_tasks_db.models import DBTaskResult

    from helpline.outbox import outbox_attempt_async
    from helpline.services.outbound import MESSAGE_OUTBOX

    tab = Child()
    assert (await tab.connect())[0]
    assert (await tab.hello(new_token()))["type"] == "ready"
    [contact] = await contacts()
    answer = await reply_left_by_a_crash(contact.pk, "Not yet", counsellor)
    tasks_before = await db(DBTaskResult.objects.count)()
    # A channel layer that cannot be reached: the delivery fails after its transaction committed.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    saved = dict(channel_layers.backends)
    channel_layers.backends.clear()
    try:
        assert await outbox_attempt_async(outbox=MESSAGE_OUTBOX, item_id=str(answer.pk)) == "retrying"
    finally:
        channel_layers.backends.clear()
        channel_layers.backends.update(saved)
    stored = await db(lambda: Message.objects.get(pk=answer.pk))()
    assert stored.status == "queued" and stored.next_attempt_at is not None and stored.claimed_at is None
    assert await db(DBTaskResult.objects.count)() == tasks_before + 1  # the retry's task
    await tab.close()


@db
def fallback_tasks_of(message_id):
    from django_tasks_db.models import DBTaskResult

    tasks = DBTaskResult.objects.filter(args_kwargs__args=["message", str(message_id)])
    return list(tasks.values("status", "run_after"))


async def test_a_reply_delivered_at_once_has_no_task(chat_endpoint, child, counsellor):
    tab = await child(token=new_token())
    [contact] = await contacts()
    answer = await reply(contact.pk, "No task left behind", counsellor)
    assert (await tab.receive())["body"] == "No task left behind"
    assert await db(lambda: Message.objects.get(pk=answer.pk).status)() == "delivered"
    assert await fallback_tasks_of(answer.pk) == []  # no worker has anything to claim, run or record


@pytest.mark.django_db  # the test's transaction never commits: the commit's callbacks never run, as after a kill
def test_a_reply_whose_process_dies_before_its_delivery_is_delivered_by_the_periodic_job_after_the_grace(
    chat_endpoint, counsellor, settings
):
    """Without the commit's callbacks (a process killed at commit), the periodic job delivers the reply: not
    within the grace (the immediate attempt may still be under way), once past it, once."""
    from datetime import timedelta

    from asgiref.sync import async_to_sync
    from django.core.management import call_command
    from django.db.models import F
    from django.utils import timezone

    from helpline.models import PeriodicJobState
    from helpline.periodic import periodic_run_due
    from tests.helpline.console.conftest import child_writes, held_by

    contact = held_by(counsellor, child_writes(chat_endpoint))
    layer = get_channel_layer()
    page = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(contact_group(contact.pk), page)  # where the child's socket listens
    answer = message_send(contact=contact, body="Are you there?", author=counsellor.staff)
    assert fallback_tasks_of.func(answer.pk) == []  # no task per reply: the periodic job is the fallback

    assert "outbox.overdue" in periodic_run_due()  # the runner of both modes (the embedded worker's thread)
    assert Message.objects.get(pk=answer.pk).status == "queued"  # still within the grace

    grace = timedelta(seconds=settings.HELPLINE_IMMEDIATE_DELIVERY_GRACE_SECONDS)
    Message.objects.filter(pk=answer.pk).update(next_attempt_at=F("next_attempt_at") - grace - timedelta(seconds=1))
    PeriodicJobState.objects.filter(name="outbox.overdue").update(next_run_at=timezone.now())
    call_command("periodic_worker", "--once")  # production's periodic runner
    assert Message.objects.get(pk=answer.pk).status == "delivered"
    event = async_to_sync(layer.receive)(page)
    assert (event["type"], event["message_id"]) == ("contact.message", str(answer.pk))

    PeriodicJobState.objects.filter(name="outbox.overdue").update(next_run_at=timezone.now())
    assert "outbox.overdue" in periodic_run_due()
    assert Message.objects.filter(pk=answer.pk, attempts=1).exists()  # delivered once, not again


async def test_a_reply_whose_worker_died_while_handing_it_over_reaches_the_child_after_the_sweep(
    chat_endpoint, child, counsellor, monkeypatch
):
    """The worker's fallback is the crash path: killed between its claim and the hand-over to the channel
    layer, the reply must stay in line (claimed, not delivered), so the sweep gives it to the next worker."""
    from datetime import timedelta

    from helpline.outbox import outbox_sweep
    from helpline.services.outbound import MESSAGE_OUTBOX
    from helpline.webchat.gateway import WebChatGateway

    tab = await child(token=new_token())
    [contact] = await contacts()
    answer = await reply_left_by_a_crash(contact.pk, "Are you safe right now?", counsellor)
    handover = WebChatGateway.send

    class Killed(BaseException):  # not an Exception: nothing after it runs, as when the process is killed
        pass

    def killed(self, outgoing):
        raise Killed

    monkeypatch.setattr(WebChatGateway, "send", killed)
    with pytest.raises(Killed):
        await deliver(answer.pk)
    monkeypatch.setattr(WebChatGateway, "send", handover)
    assert await db(lambda: Message.objects.get(pk=answer.pk).status)() != "delivered"  # nobody was told

    await db(lambda: outbox_sweep(MESSAGE_OUTBOX, stalled_after=timedelta(0)))()
    assert await deliver(answer.pk) == "delivered"
    assert (await tab.receive())["body"] == "Are you safe right now?"
