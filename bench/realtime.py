"""Time from a child's message to the counsellor's console socket, beside the bare channel layer.

    .venv/bin/python bench/realtime.py [--conversations 50 200] [--seconds 20] [--rounds 2] [--workers 2]

Runs the production ASGI app (uvicorn, ``--workers`` processes, HELPLINE_MODE=production,
PostgreSQL + Redis on 127.0.0.1) against a throwaway database (name must contain "bench";
it is dropped and re-created). For each number of live conversations:

- N children hold web chat sockets (``ws/chat/bench/``) and N counsellors hold console
  sockets (``ws/console/``, real sessions with a verified second factor), each counsellor
  holding one of the conversations;
- **app**: every child sends a message every ``--interval`` seconds (staggered); the
  latency is from the child's send to the holder's console receiving ``contact.message``
  (store, encrypt, commit, notify, forward);
- **bare**: this process ``group_send``s the same event to the same contact groups at the
  same rate with native ``await``; the latency is from the send to the console receiving it.

Phases alternate (bare, app, app, bare, ...) so machine noise hits both sides alike.
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import (  # noqa: E402
    HOST,
    base_environment,
    database_drop,
    database_recreate,
    django_setup,
    server_start,
)

LINE = "bench"
BODY = "someone keeps asking me for pictures and I don't know what to do"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/helpline_bench_realtime")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--conversations", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--seconds", type=float, default=20, help="length of each measured phase")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a child's messages")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


# --- Setting up ------------------------------------------------------------------------


def counsellors_create(count: int) -> list[str]:
    """Counsellors on the bench line, each with a logged-in, 2FA-verified session; returns session keys."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY

    from helpline.models import SealedTOTPDevice, Staff
    from helpline.services.lines import helpline_ensure
    from helpline.services.staff import staff_create
    from helpline.services.twofactor import totp_device_create
    from helpline.webchat.services import webchat_endpoint_ensure

    line = helpline_ensure(slug=LINE, name="Bench line", languages=["en"])
    webchat_endpoint_ensure(line=line)
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    existing = Staff.objects.filter(lines=line).count()
    for n in range(existing, count):
        staff_create(
            username=f"bench-counsellor-{n}",
            password=secrets.token_urlsafe(16),
            role="counsellor",
            line_slugs=[LINE],
            languages=["en"],
            capacity=1,
        )
    for staff in Staff.objects.filter(lines=line).select_related("user").order_by("user__username")[:count]:
        device = SealedTOTPDevice.objects.filter(user=staff.user, confirmed=True).first()
        device = device or totp_device_create(user=staff.user, confirmed=True, name="bench")
        session = store_class()
        session[SESSION_KEY] = str(staff.user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = staff.user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        keys.append((staff.pk, session.session_key))
    return keys


def conversations_assign(staff_ids: list[int]) -> dict[str, int]:
    """Give each waiting contact to one counsellor; returns contact id -> staff id."""
    from helpline.models import Contact, Staff
    from helpline.services.queue import contact_accept, presence_set

    Contact.objects.filter(status__in=["active", "wrapup"]).update(status="closed")
    holders = {}
    for staff in Staff.objects.filter(pk__in=staff_ids):
        presence_set(staff=staff, presence="available")
        contact = contact_accept(staff=staff)
        holders[str(contact.pk)] = staff.pk
    return holders


# --- Sockets ---------------------------------------------------------------------------


async def child_open(port: int):
    """A child's web chat socket after the pre-chat step (which opens the waiting contact); returns (socket, token)."""
    from websockets.asyncio.client import connect

    token = secrets.token_hex(16)
    socket = await connect(f"ws://{HOST}:{port}/ws/chat/{LINE}/", origin=f"http://{HOST}:{port}", max_size=2**20)
    await socket.send(json.dumps({"type": "hello", "token": token, "language": "en", "age_band": "13-15"}))
    while json.loads(await socket.recv()).get("type") != "ready":
        pass
    return socket, token


def contacts_of(tokens: list[str]) -> list[str]:
    """The open contact of each child, found as the platform finds a repeat sender: by blind index."""
    from helpline.models import Contact
    from helpline.services.inbound import sender_index_for

    ids = []
    for token in tokens:
        index = sender_index_for(channel="webchat", address=token)
        ids.append(str(Contact.objects.exclude(status="closed").get(sender_index=index).pk))
    return ids


async def console_open(port: int, session_key: str):
    from websockets.asyncio.client import connect

    return await connect(
        f"ws://{HOST}:{port}/ws/console/",
        origin=f"http://{HOST}:{port}",
        additional_headers={"Cookie": f"sessionid={session_key}"},
        max_size=2**20,
    )


async def drain(socket) -> None:
    """Children get acks and status frames; nobody needs them here."""
    try:
        async for _ in socket:
            pass
    except Exception:  # noqa: BLE001 - the socket closing ends the drain
        return


async def console_listen(socket, sent_at: dict, latencies: list, phase: dict) -> None:
    try:
        async for raw in socket:
            received = time.perf_counter()
            event = json.loads(raw)
            if event.get("type") != "contact.message":
                continue
            started = sent_at.pop(event.get("contact_id"), None)
            if started is not None and phase["measuring"]:
                latencies.append((phase["name"], received - started))
    except Exception:  # noqa: BLE001 - closed at the end of the run
        return


async def run_level(port: int, sessions, count: int, args) -> dict:
    from channels.layers import get_channel_layer

    from helpline.realtime import contact_group

    opened = [await child_open(port) for _ in range(count)]
    children = [socket for socket, _token in opened]
    holders = await asyncio.to_thread(conversations_assign, [staff_id for staff_id, _ in sessions[:count]])
    ordered_contacts = await asyncio.to_thread(contacts_of, [token for _socket, token in opened])
    assert set(ordered_contacts) == set(holders), "every child's conversation is held by one counsellor"
    consoles = [await console_open(port, key) for _staff_id, key in sessions[:count]]
    await asyncio.sleep(2)  # consoles join their groups
    sent_at: dict[str, float] = {}
    latencies: list = []
    phase = {"name": "", "measuring": False}
    tasks = [asyncio.create_task(drain(child)) for child in children]
    tasks += [asyncio.create_task(console_listen(console, sent_at, latencies, phase)) for console in consoles]
    layer = get_channel_layer()

    async def app_sender(child, contact_id, offset):
        await asyncio.sleep(offset)
        while phase["running"]:
            sent_at[contact_id] = time.perf_counter()
            await child.send(json.dumps({"type": "message", "id": str(uuid.uuid4()), "body": BODY}))
            await asyncio.sleep(args.interval)

    async def bare_sender(contact_id, offset):
        await asyncio.sleep(offset)
        while phase["running"]:
            sent_at[contact_id] = time.perf_counter()
            event = {"type": "contact.message", "contact_id": contact_id, "message_id": str(uuid.uuid4())}
            await layer.group_send(contact_group(contact_id), event)
            await asyncio.sleep(args.interval)

    order = []
    for round_number in range(args.rounds):
        order += ["bare", "app"] if round_number % 2 == 0 else ["app", "bare"]
    for name in order:
        phase.update(name=name, running=True, measuring=False)
        offsets = [args.interval * n / count for n in range(count)]
        if name == "app":
            senders = [app_sender(c, cid, o) for c, cid, o in zip(children, ordered_contacts, offsets, strict=True)]
        else:
            senders = [bare_sender(cid, o) for cid, o in zip(ordered_contacts, offsets, strict=True)]
        running = [asyncio.create_task(sender) for sender in senders]
        await asyncio.sleep(args.interval)  # warm up one cycle
        phase["measuring"] = True
        await asyncio.sleep(args.seconds)
        phase["running"] = False
        await asyncio.sleep(args.interval + 0.5)  # let the last messages land
        phase["measuring"] = False
        await asyncio.gather(*running)
        sent_at.clear()
    for socket in (*children, *consoles):
        await socket.close()
    for task in tasks:
        task.cancel()
    result = {}
    for name in ("bare", "app"):
        values = sorted(seconds * 1000 for kind, seconds in latencies if kind == name)
        expected = count * args.rounds * args.seconds / args.interval
        result[name] = {
            "n": len(values),
            "expected": int(expected),
            "p50": statistics.median(values) if values else float("nan"),
            "p99": values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("nan"),
        }
    return result


def main():
    args = parse_args()
    database_recreate(args.database_url)
    var_dir = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    env = base_environment(args, var_dir)
    env["CHANNEL_PREFIX"] = "bench-realtime"
    # Every simulated child comes from 127.0.0.1; lift the per-address cap on new chats.
    env["HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS"] = "100000"
    django_setup(env)
    sessions = counsellors_create(max(args.conversations))
    server, port = server_start(
        env, settings_module="config.settings", workers=args.workers, log_path=var_dir / "uvicorn.log"
    )
    try:
        print(
            f"uvicorn --workers {args.workers}, PostgreSQL + Redis, one message per conversation every {args.interval}s"
        )
        print(f"{'conversations':>13} {'path':>5} {'received':>9} {'p50 ms':>8} {'p99 ms':>8}")
        for count in args.conversations:
            result = asyncio.run(run_level(port, sessions, count, args))
            for name in ("bare", "app"):
                r = result[name]
                print(f"{count:>13} {name:>5} {r['n']:>5}/{r['expected']:<4}{r['p50']:>8.1f} {r['p99']:>8.1f}")
            ratio = result["app"]["p99"] / result["bare"]["p99"]
            print(f"{count:>13} app p99 / bare p99 = {ratio:.1f}x", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            # Sockets still draining; the figures are printed. Kill the workers too, not only their parent.
            os.killpg(server.pid, signal.SIGKILL)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_drop(args.database_url)


if __name__ == "__main__":
    main()
