"""Time from a child's message to the counsellor's console socket, beside the bare channel layer.

    .venv/bin/python bench/realtime.py [--conversations 50 200 400] [--seconds 20] [--rounds 2] [--workers 2]
        [--task-workers 2] [--phases] [--htmx]

Runs the production ASGI app (uvicorn, ``--workers`` processes, HELPLINE_MODE=production,
PostgreSQL + Redis on 127.0.0.1) against a throwaway database (name must contain "bench";
it is dropped and re-created). For each number of live conversations:

- N children hold web chat sockets (``ws/chat/bench/``) and N counsellors hold console
  sockets (``ws/console/``, real sessions with a verified second factor), each counsellor
  holding one of the conversations;
- **in**: every child sends a message every ``--interval`` seconds (staggered); the
  latency is from the child's send to the holder's console receiving ``contact.message``
  (store, encrypt, commit, notify, forward);
- **out**: every counsellor presses Send (``POST /console/c/<id>/send/``, a plain form post;
  ``--htmx`` re-renders the pane as the console does) every ``--interval`` seconds; the
  latency is from the request to the child's socket showing the reply (store, commit, deliver at once, read, send);
- ``--phases`` splits each: **in:ack** (the child's send until its ack: stored, committed) and
  **out:http** (the Send request until its answer); each counsellor has one keep-alive HTTP
  connection of its own, as a browser has;
- **bare**: this process ``group_send``s the same event to the same contact groups at the
  same rate with native ``await``; the latency is from the send to the console receiving it.

Phases alternate (bare, in, out, out, in, bare, ...) so machine noise hits all alike. Two
``db_worker`` processes run beside the server, as in production. Messages that arrive after
their phase's window still count; what never arrives is the gap in received/sent.
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
    task_workers_start,
)
from bench.sampler_report import profile_summary  # noqa: E402

LINE = "bench"
BODY = "someone keeps asking me for pictures and I don't know what to do"
REPLY = "Thank you for telling me. You did the right thing. Can you tell me where you met this person?"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/helpline_bench_realtime")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--conversations", type=int, nargs="+", default=[50, 200, 400])
    parser.add_argument("--seconds", type=float, default=20, help="length of each measured phase")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a child's messages")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--task-workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--htmx", action="store_true", help="send replies as the console does, re-rendering the pane")
    parser.add_argument(
        "--phases",
        action="store_true",
        help="split the latency: in = until the child's ack (stored) / until the console; "
        "out = until the Send request's answer / until the child's screen",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server's stacks during each measured phase (bench/sampler) and print where time goes",
    )
    parser.add_argument(
        "--profile-cpu",
        action="store_true",
        help="with --profile: weigh each sampled stack by the CPU its thread used, not by samples",
    )
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

    # These counsellors never type a password (their sessions are made here); full-strength
    # hashing of 400 passwords would take minutes on a small machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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


async def console_listen(socket, sent_at: dict, latencies: list, phase: dict, seen: dict) -> None:
    try:
        async for raw in socket:
            received = time.perf_counter()
            event = json.loads(raw)
            if event.get("type") != "contact.message" or phase["name"] not in ("bare", "in"):
                continue
            key = (event.get("contact_id"), event.get("message_id"))
            seen[key] = seen.get(key, 0) + 1
            started = sent_at.pop(event.get("contact_id"), None)
            if started is not None and phase["measuring"]:
                latencies.append((phase["name"], received - started))
    except Exception:  # noqa: BLE001 - closed at the end of the run
        return


async def child_listen(
    socket, contact_id, sent_at: dict, latencies: list, phase: dict, seen: dict, acked_from: dict
) -> None:
    """Children get acks and status frames, and the counsellors' replies (timed in the "out" phase)."""
    try:
        async for raw in socket:
            received = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") == "ack" and phase["measuring"] and phase["name"] == "in":
                started = acked_from.pop(contact_id, None)
                if started is not None:
                    latencies.append(("in:ack", received - started))
                continue
            if frame.get("type") != "message" or frame.get("direction") != "out":
                continue
            seen[frame["id"]] = seen.get(frame["id"], 0) + 1
            started = sent_at.pop(contact_id, None)
            if started is not None and phase["measuring"] and phase["name"] == "out":
                latencies.append(("out", received - started))
    except Exception:  # noqa: BLE001 - the socket closing ends the listening
        return


CSRF = "benchcsrf" + "0" * 23  # a 32-character CSRF secret, set as the cookie and sent as the header


async def run_level(port: int, sessions, count: int, args) -> dict:
    import httpx
    import websockets
    from channels.layers import get_channel_layer

    from helpline.realtime import contact_group

    # One keep-alive HTTP connection per counsellor, as each counsellor's browser has. Made before
    # any socket opens (and plain HTTP, no TLS context per client): building hundreds of clients
    # blocks this loop for seconds, long enough for the server to time out the sockets' pings.
    https = [
        httpx.AsyncClient(
            base_url=f"http://{HOST}:{port}", limits=httpx.Limits(max_connections=1), timeout=30, verify=False
        )
        for _ in range(count)
    ]
    opened = [await child_open(port) for _ in range(count)]
    children = [socket for socket, _token in opened]
    holders = await asyncio.to_thread(conversations_assign, [staff_id for staff_id, _ in sessions[:count]])
    ordered_contacts = await asyncio.to_thread(contacts_of, [token for _socket, token in opened])
    assert set(ordered_contacts) == set(holders), "every child's conversation is held by one counsellor"
    session_of = {staff_id: key for staff_id, key in sessions[:count]}
    consoles = [await console_open(port, key) for _staff_id, key in sessions[:count]]
    await asyncio.sleep(2)  # consoles join their groups
    sent_at: dict[str, float] = {}
    acked_from: dict[str, float] = {}  # --phases: the child's send, until its ack
    closed_sockets: list[str] = []
    latencies: list = []
    phase = {"name": "", "measuring": False, "running": False}
    sent = {"bare": 0, "in": 0, "out": 0}
    console_seen: dict = {}
    child_seen: dict = {}
    tasks = [
        asyncio.create_task(child_listen(child, cid, sent_at, latencies, phase, child_seen, acked_from))
        for child, cid in zip(children, ordered_contacts, strict=True)
    ]
    tasks += [
        asyncio.create_task(console_listen(console, sent_at, latencies, phase, console_seen)) for console in consoles
    ]
    https = dict(zip(ordered_contacts, https, strict=True))
    layer = get_channel_layer()

    def counted(name):
        if phase["measuring"]:
            sent[name] += 1

    async def in_sender(child, contact_id, offset):
        await asyncio.sleep(offset)
        while phase["running"]:
            counted("in")
            sent_at[contact_id] = acked_from[contact_id] = time.perf_counter()
            try:
                await child.send(json.dumps({"type": "message", "id": str(uuid.uuid4()), "body": BODY}))
            except websockets.exceptions.ConnectionClosed as closed:
                # Counted and reported: a socket the server closed (e.g. a keepalive ping it timed out).
                print(f"child socket closed: {closed}", flush=True)
                closed_sockets.append(contact_id)
                return
            await asyncio.sleep(args.interval)

    async def out_sender(contact_id, offset):
        cookies = {"sessionid": session_of[holders[contact_id]], "csrftoken": CSRF}
        # A plain form post (answered with a redirect): the delivery path without the htmx pane's
        # re-render, which is the console's own cost (docs/PERFORMANCE.md).
        headers = {"X-CSRFToken": CSRF, **({"HX-Request": "true"} if args.htmx else {})}
        await asyncio.sleep(offset)
        while phase["running"]:
            counted("out")
            sent_at[contact_id] = started = time.perf_counter()
            try:
                response = await https[contact_id].post(
                    f"/console/c/{contact_id}/send/", data={"body": REPLY}, cookies=cookies, headers=headers
                )
                if phase["measuring"]:
                    latencies.append(("out:http", time.perf_counter() - started))
                if response.status_code not in (200, 302):
                    print(f"send answered {response.status_code}", flush=True)
            except httpx.HTTPError as error:
                print(f"send failed: {type(error).__name__}", flush=True)
            await asyncio.sleep(args.interval)

    async def bare_sender(contact_id, offset):
        await asyncio.sleep(offset)
        while phase["running"]:
            counted("bare")
            sent_at[contact_id] = time.perf_counter()
            # "out": the child's socket in the same group skips it without a read, as it does a queued reply.
            event = {
                "type": "contact.message",
                "contact_id": contact_id,
                "message_id": str(uuid.uuid4()),
                "direction": "out",
            }
            await layer.group_send(contact_group(contact_id), event)
            await asyncio.sleep(args.interval)

    cpu: dict[str, dict[str, float]] = {}  # per phase (the last round's), the CPU each group of processes used
    order = []
    for round_number in range(args.rounds):
        order += ["bare", "in", "out"] if round_number % 2 == 0 else ["out", "in", "bare"]
    for name in order:
        phase.update(name=name, running=True, measuring=False)
        offsets = [args.interval * n / count for n in range(count)]
        if name == "in":
            senders = [in_sender(c, cid, o) for c, cid, o in zip(children, ordered_contacts, offsets, strict=True)]
        elif name == "out":
            senders = [out_sender(cid, o) for cid, o in zip(ordered_contacts, offsets, strict=True)]
        else:
            senders = [bare_sender(cid, o) for cid, o in zip(ordered_contacts, offsets, strict=True)]
        running = [asyncio.create_task(sender) for sender in senders]
        await asyncio.sleep(args.interval)  # warm up one cycle
        phase["measuring"] = True
        if args.profile:
            (args.sample_dir / "label").write_text(f"{count} {name}")
        cpu_before, cpu_started = _cpu_ticks_by_group(args.server_pgids), time.monotonic()
        await asyncio.sleep(args.seconds)
        cpu[name] = cpu_shares(cpu_before, _cpu_ticks_by_group(args.server_pgids), time.monotonic() - cpu_started)
        if args.profile:
            (args.sample_dir / "label").write_text("")
        phase["running"] = False
        await asyncio.gather(*running)
        await asyncio.sleep(max(2.0, args.interval))  # let the last messages land (they still count)
        phase["measuring"] = False
        sent_at.clear()
        acked_from.clear()
    for http in https.values():
        await http.aclose()
    for socket in (*children, *consoles):
        await socket.close()
    for task in tasks:
        task.cancel()
    result = {}
    for name in ("bare", "in", "out", "in:ack", "out:http"):
        values = sorted(seconds * 1000 for kind, seconds in latencies if kind == name)
        result[name] = {
            "n": len(values),
            "sent": sent[name.split(":")[0]],
            "p50": statistics.median(values) if values else float("nan"),
            "p99": values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("nan"),
        }
    result["cpu"] = cpu
    result["closed"] = len(closed_sockets)
    result["twice"] = sum(1 for n in child_seen.values() if n > 1) + sum(1 for n in console_seen.values() if n > 1)
    result["stored"] = await asyncio.to_thread(messages_stored, ordered_contacts)
    return result


def _cpu_ticks_by_group(server_pgids: dict[int, str]) -> dict[str, int]:
    """CPU ticks (user + system) used so far by each group of processes on the machine: this bench,
    the server's process groups, PostgreSQL, Redis and everything else."""
    ticks: dict[str, int] = {}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        pgid, used = int(fields[2]), int(fields[11]) + int(fields[12])
        if int(entry) == me:
            group = "bench"
        elif pgid in server_pgids:
            group = server_pgids[pgid]
            if group == "web" and int(entry) != pgid:
                # A uvicorn worker: its event loop (the main thread) apart from its threads (views, database calls).
                loop_raw = Path(f"/proc/{entry}/task/{entry}/stat").read_text()
                loop_fields = loop_raw[loop_raw.rindex(")") + 2 :].split()
                loop_used = int(loop_fields[11]) + int(loop_fields[12])
                ticks["web loop"] = ticks.get("web loop", 0) + loop_used
        elif comm.startswith("postgres"):
            group = "postgres"
        elif comm.startswith("redis"):
            group = "redis"
        else:
            group = "other"
        ticks[group] = ticks.get(group, 0) + used
    return ticks


CPU_GROUPS = ("bench", "web", "web loop", "db_worker", "postgres", "redis", "other")


def cpu_shares(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Per group, the share of one core used between two readings (100 = one core busy)."""
    tick = os.sysconf("SC_CLK_TCK")
    return {group: 100 * (after.get(group, 0) - before.get(group, 0)) / tick / seconds for group in CPU_GROUPS}


def messages_stored(contact_ids) -> dict:
    """Inbound and outbound messages stored in the level's conversations, and outbound not delivered."""
    from helpline.models import Message

    messages = Message.objects.filter(contact_id__in=contact_ids)
    return {
        "in": messages.filter(direction="in").count(),
        "out": messages.filter(direction="out").count(),
        "out_undelivered": messages.filter(direction="out").exclude(status="delivered").count(),
    }


def main():
    args = parse_args()
    database_recreate(args.database_url)
    var_dir = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    env = base_environment(args, var_dir)
    env["CHANNEL_PREFIX"] = "bench-realtime"
    # Every simulated child comes from 127.0.0.1; lift the per-address cap on new chats.
    env["HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS"] = "100000"
    if args.profile:
        args.sample_dir = var_dir / "samples"
        args.sample_dir.mkdir()
        env["HELPLINE_SAMPLE_DIR"] = str(args.sample_dir)
        env["HELPLINE_SAMPLE_CPU"] = "1" if args.profile_cpu else "0"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bench" / "sampler"), env.get("PYTHONPATH")]))
    django_setup(env)
    sessions = counsellors_create(max(args.conversations))
    server, port = server_start(
        env, settings_module="config.settings", workers=args.workers, log_path=var_dir / "uvicorn.log"
    )
    workers = task_workers_start(env, args.task_workers, var_dir)
    args.server_pgids = {server.pid: "web", **{worker.pid: "db_worker" for worker in workers}}
    try:
        print(
            f"uvicorn --workers {args.workers}, {args.task_workers} db_worker processes, PostgreSQL + Redis, "
            f"one message per conversation every {args.interval}s; in = child -> counsellor's console, "
            "out = counsellor's Send (HTTP) -> child's socket, bare = group_send -> console"
        )
        if args.phases:
            print(
                "phases: in:ack = child's send -> its ack (stored and committed); out:http = Send request -> its answer"
            )
        print(f"{'conversations':>13} {'path':>8} {'received/sent':>14} {'p50 ms':>8} {'p99 ms':>8}")
        for count in args.conversations:
            result = asyncio.run(run_level(port, sessions, count, args))
            names = ("bare", "in", "in:ack", "out", "out:http") if args.phases else ("bare", "in", "out")
            for name in names:
                r = result[name]
                print(f"{count:>13} {name:>8} {r['n']:>7}/{r['sent']:<6}{r['p50']:>8.1f} {r['p99']:>8.1f}")
            for name in ("in", "out"):
                ratio = result[name]["p99"] / result["bare"]["p99"]
                print(f"{count:>13} {name} p99 / bare p99 = {ratio:.1f}x")
            for name, shares in result["cpu"].items():
                used = ", ".join(f"{group} {shares[group]:.0f}%" for group in CPU_GROUPS)
                print(f"{count:>13} cpu during {name} (100% = one core): {used}")
            stored = result["stored"]
            print(
                f"{count:>13} stored: {stored['in']} in, {stored['out']} out ({stored['out_undelivered']} not "
                f"delivered); frames received twice: {result['twice']}; child sockets closed by the server: "
                f"{result['closed']}",
                flush=True,
            )
        if args.profile:
            time.sleep(3)  # the samplers write every 2 s
            profile_summary(args.sample_dir, cpu=args.profile_cpu)
    finally:
        for process in (server, *workers):
            process.terminate()
        for process in (server, *workers):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # Sockets still draining; the figures are printed. Kill the workers too, not only their parent.
                os.killpg(process.pid, signal.SIGKILL)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_drop(args.database_url)


if __name__ == "__main__":
    main()
