"""Drill: Redis restarted in the middle of live conversations; every socket comes back, nothing lost or shown twice.

    .venv/bin/python -u bench/drill_redis.py [--conversations 200] [--seconds 60] [--restart-at 20] [--down 3]
        [--interval 5] [--workers 2] [--task-workers 2]

The production set-up on 127.0.0.1: PostgreSQL (a throwaway database whose name must contain
"bench"; dropped and re-created), uvicorn with ``--workers`` processes in production mode,
``--task-workers`` ``db_worker`` processes, and **its own Redis server** on a spare port (no
persistence, so a restart loses every group membership and queued event, the worst case),
so it can be killed without touching the Redis other work uses.

N children hold web chat sockets and N counsellors hold console sockets, each counsellor
holding one conversation. The clients behave as the pages' JavaScript does:

- a **child** (``helpline/static/helpline/webchat/chat.js``) sends a message every
  ``--interval`` seconds; while its socket is down the message waits and goes when the
  server answers the next hello (the server stores each client id once); on a close it
  reconnects after 1, 2, 4 ... s (at most 15); every ``ready`` frame replays the history,
  and the page shows each message id once;
- a **counsellor** (``helpline/static/helpline/console.js``) presses Send every
  ``--interval`` seconds while the console is live (the page disables Send otherwise); on
  a close it reconnects with backoff and jitter, and every (re)connect reloads the
  conversation pane over HTTP. What the console shows is what those reloads and the
  socket's ``contact.message`` events told it (a real page also reloads on every event,
  which would hide a lost event: this counts them strictly).

After ``--restart-at`` seconds the drill kills Redis (SIGKILL), waits ``--down`` seconds and
starts it again, empty. Sending stops after ``--seconds``; the drill waits ``--settle``
seconds and counts, per conversation, on both ends: stored (database), shown (distinct ids
on the screen), lost (stored, not shown), twice (one message sent once but stored or
shown as two). Exit status 1 if anything was lost or shown twice, or a socket did not come back.
"""

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import (  # noqa: E402
    HOST,
    base_environment,
    database_drop,
    database_recreate,
    django_setup,
    free_port,
    server_start,
    task_workers_start,
)
from bench.realtime import CSRF, LINE, REPLY, conversations_assign, counsellors_create  # noqa: E402

INBOUND = re.compile(r'class="msg msg-in[^"]*" data-message-id="([0-9a-f-]{36})"')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/helpline_bench_drill")
    parser.add_argument("--redis-port", type=int, default=0, help="port of the drill's own Redis (default: a free one)")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60, help="how long children and counsellors write")
    parser.add_argument("--restart-at", type=float, default=20, help="seconds into the writing when Redis is killed")
    parser.add_argument("--down", type=float, default=3, help="seconds Redis stays down")
    parser.add_argument("--settle", type=float, default=30, help="seconds to wait after the writing before counting")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between one person's messages")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--task-workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


# --- Redis --------------------------------------------------------------------------------


class RedisServer:
    def __init__(self, port: int, directory: Path):
        self.port, self.directory, self.process = port, directory, None

    def start(self) -> None:
        log = open(self.directory / "redis.log", "a")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
            + ["--dir", str(self.directory), "--maxclients", "10000"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            if time.monotonic() > deadline:
                sys.exit("redis-server did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


# --- The clients ----------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.closes = Counter()  # "child" / "console" -> sockets closed under them
        self.reconnects = Counter()  # successful reconnections
        self.refused = Counter()  # connection attempts that failed
        self.failed_sends = 0


class ChildPage:
    """chat.js: hello with the kept token, history replay, messages typed offline sent on ready."""

    def __init__(self, port: int, stats: Stats):
        self.port, self.stats = port, stats
        self.token = secrets.token_hex(16)
        self.shown: dict[str, str] = {}  # id -> direction, once per id as the page shows them
        self.repeats = 0  # frames for an id already on screen (the page ignores them)
        self.pending: dict[str, str] = {}
        self.sent: list[str] = []
        self.acked: set[str] = set()
        self.socket = None
        self.ready = self.up = asyncio.Event()
        self.up_at = 0.0
        self.attempts = 0
        self.connected_once = False

    async def run(self, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        while not stop.is_set():
            try:
                self.socket = await connect(
                    f"ws://{HOST}:{self.port}/ws/chat/{LINE}/", origin=f"http://{HOST}:{self.port}", max_size=2**22
                )
            except Exception:  # noqa: BLE001 - the page retries any failure the same way
                self.stats.refused["child"] += 1
            else:
                try:
                    await self.socket.send(
                        json.dumps({"type": "hello", "token": self.token, "language": "en", "age_band": "13-15"})
                    )
                    async for raw in self.socket:
                        await self.receive(json.loads(raw))
                except Exception:  # noqa: BLE001 - a drop ends the loop like a close
                    pass
                if not stop.is_set():
                    self.stats.closes["child"] += 1
            self.socket = None
            self.ready.clear()
            if stop.is_set():
                return
            await asyncio.sleep(min(15, 2**self.attempts))
            self.attempts += 1

    async def receive(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "ready":
            if self.connected_once:
                self.stats.reconnects["child"] += 1
            self.connected_once = True
            self.attempts = 0
            self.up_at = time.monotonic()
            for item in frame.get("history") or []:
                self.show(item, replayed=True)
            self.ready.set()
            for client_id, body in list(self.pending.items()):
                await self.socket.send(json.dumps({"type": "message", "id": client_id, "body": body}))
        elif kind == "message":
            self.show(frame)
        elif kind == "ack":
            self.pending.pop(frame["id"], None)
            self.acked.add(frame["id"])

    def show(self, frame: dict, *, replayed: bool = False) -> None:
        if frame["id"] in self.shown:
            self.repeats += 0 if replayed else 1
            return
        self.shown[frame["id"]] = frame["direction"]

    async def write(self, n: int) -> None:
        client_id = str(uuid.uuid4())
        body = f"message {n} from the child: someone keeps asking me for pictures"
        self.pending[client_id] = body
        self.sent.append(client_id)
        self.shown[client_id] = "in"  # the page shows it at once, marked "sending"
        if self.ready.is_set() and self.socket is not None:
            try:
                await self.socket.send(json.dumps({"type": "message", "id": client_id, "body": body}))
            except Exception:  # noqa: BLE001 - stays pending, goes on the next ready
                pass


class ConsolePage:
    """console.js: reconnect with backoff and jitter, reload the pane on every (re)connect, Send only while live."""

    def __init__(self, port: int, session_key: str, contact_id: str, http, stats: Stats):
        self.port, self.session_key, self.contact_id, self.http, self.stats = port, session_key, contact_id, http, stats
        self.cookies = {"sessionid": session_key, "csrftoken": CSRF}
        self.shown: set[str] = set()  # inbound message ids the console was shown
        self.live = self.up = asyncio.Event()
        self.up_at = 0.0
        self.reload_failures = 0
        self.reload_retries = 0
        self.attempts = 0
        self.connected_once = False
        self.replies_sent = 0
        self.replies_failed = 0

    async def run(self, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        while not stop.is_set():
            try:
                socket = await connect(
                    f"ws://{HOST}:{self.port}/ws/console/",
                    origin=f"http://{HOST}:{self.port}",
                    additional_headers={"Cookie": f"sessionid={self.session_key}"},
                    max_size=2**22,
                )
            except Exception:  # noqa: BLE001
                self.stats.refused["console"] += 1
            else:
                if self.connected_once:
                    self.stats.reconnects["console"] += 1
                self.connected_once = True
                self.attempts = 0
                self.up_at = time.monotonic()
                self.live.set()
                reload = asyncio.create_task(self.reload())
                try:
                    async for raw in socket:
                        event = json.loads(raw)
                        if event.get("type") == "contact.message" and event.get("contact_id") == self.contact_id:
                            self.shown.add(event["message_id"])
                except Exception:  # noqa: BLE001
                    pass
                await reload
                if not stop.is_set():
                    self.stats.closes["console"] += 1
            self.live.clear()
            if stop.is_set():
                return
            await asyncio.sleep(min(30, 2**self.attempts) * (0.5 + random.random() / 2))  # noqa: S311
            self.attempts += 1

    async def reload(self) -> None:
        """The pane as the console fetches it on (re)connect; its inbound messages are now on screen. A fetch
        that fails (no answer, a 5xx) is tried again with console.js's backoff (1, 2, 4 … s, jittered, six
        tries) while the socket is open."""
        for tries in range(1, 7):
            try:
                response = await self.http.get(f"/console/c/{self.contact_id}/live/", cookies=self.cookies)
            except Exception:  # noqa: BLE001 - the page keeps the last pane it had, and tries again
                response = None
            if response is not None and response.status_code < 500:
                if response.status_code == 200:
                    self.shown.update(INBOUND.findall(response.text))
                else:
                    self.reload_failures += 1
                return
            self.reload_retries += 1
            if tries == 6 or not self.live.is_set():
                break
            await asyncio.sleep(min(30, 2 ** (tries - 1)) * (0.5 + random.random() / 2))  # noqa: S311
        self.reload_failures += 1

    async def reply(self) -> None:
        if not self.live.is_set():
            return  # Send is disabled while the console is not live
        try:
            response = await self.http.post(
                f"/console/c/{self.contact_id}/send/",
                data={"body": REPLY},
                cookies=self.cookies,
                headers={"X-CSRFToken": CSRF},
            )
        except Exception:  # noqa: BLE001 - the page shows the reply as unsent; not retried here
            self.replies_failed += 1
            return
        if response.status_code in (200, 302):
            self.replies_sent += 1
        else:
            self.replies_failed += 1


# --- The drill -------------------------------------------------------------------------------


def stored(contact_ids: list[str]) -> dict[str, dict]:
    from helpline.models import Message

    result = {cid: {"in": [], "out": [], "out_delivered": 0} for cid in contact_ids}
    rows = Message.objects.filter(contact_id__in=contact_ids).values_list(
        "contact_id", "direction", "pk", "provider_id", "status", "created_at"
    )
    for contact_id, direction, pk, provider_id, status, created_at in rows:
        entry = result[str(contact_id)]
        entry.setdefault("at", {})[str(pk)] = (created_at.timestamp(), status)
        if direction == "in":
            entry["in"].append((str(pk), provider_id))
        else:
            entry["out"].append(str(pk))
            entry["out_delivered"] += status == "delivered"
    return result


def contact_of(token: str) -> str:
    from helpline.models import Contact
    from helpline.services.inbound import sender_index_for

    index = sender_index_for(channel="webchat", address=token)
    return str(Contact.objects.exclude(status="closed").get(sender_index=index).pk)


async def drill(port: int, sessions, redis: RedisServer, args) -> bool:
    import httpx

    stats = Stats()
    stop = asyncio.Event()
    count = args.conversations
    children = [ChildPage(port, stats) for _ in range(count)]
    child_tasks = [asyncio.create_task(child.run(stop)) for child in children]
    for child in children:
        await asyncio.wait_for(child.ready.wait(), 60)
    # Automatic messages (greeting, waiting notice) are not part of the count.
    staff_ids = [staff_id for staff_id, _key in sessions[:count]]
    holders = await asyncio.to_thread(conversations_assign, staff_ids)
    contact_ids = [await asyncio.to_thread(contact_of, child.token) for child in children]
    key_of = dict(sessions[:count])
    limits = httpx.Limits(max_connections=64)
    http = httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=60)
    consoles = [ConsolePage(port, key_of[holders[cid]], cid, http, stats) for cid in contact_ids]
    console_tasks = [asyncio.create_task(console.run(stop)) for console in consoles]
    for console in consoles:
        await asyncio.wait_for(console.live.wait(), 60)
    await asyncio.sleep(2)
    before = await asyncio.to_thread(stored, contact_ids)
    print(f"{count} conversations live; writing for {args.seconds:.0f}s, Redis restarted at {args.restart_at:.0f}s")

    writing = True

    async def person(n, act):
        await asyncio.sleep(args.interval * n / count)
        i = 0
        while writing:
            await act(i)
            i += 1
            await asyncio.sleep(args.interval)

    writers = [asyncio.create_task(person(n, child.write)) for n, child in enumerate(children)]
    writers += [asyncio.create_task(person(n, lambda _i, c=console: c.reply())) for n, console in enumerate(consoles)]
    started = time.monotonic()
    await asyncio.sleep(args.restart_at)
    print(f"{time.monotonic() - started:5.1f}s kill Redis", flush=True)
    await asyncio.to_thread(redis.kill)
    await asyncio.sleep(args.down)
    await asyncio.to_thread(redis.start)
    restarted, restart_wall = time.monotonic(), time.time()
    print(f"{time.monotonic() - started:5.1f}s Redis started again (empty)", flush=True)
    while time.monotonic() - started < args.seconds:
        await asyncio.sleep(0.2)
    writing = False
    await asyncio.gather(*writers)
    print(f"{time.monotonic() - started:5.1f}s writing stopped; settling {args.settle:.0f}s", flush=True)
    await asyncio.sleep(args.settle)
    everyone = (*children, *consoles)
    back_after = None
    if all(page.up.is_set() for page in everyone) and all(page.up_at > restarted for page in everyone):
        back_after = max(page.up_at for page in everyone) - restarted
    up = sum(c.ready.is_set() for c in children), sum(c.live.is_set() for c in consoles)
    after = await asyncio.to_thread(stored, contact_ids)
    stop.set()
    await http.aclose()
    for task in (*child_tasks, *console_tasks):
        task.cancel()

    # Counting, per conversation, on both ends.
    totals = Counter()
    bad = []
    lost_times = []
    for child, console, cid in zip(children, consoles, contact_ids, strict=True):
        old_in = {pk for pk, _ in before[cid]["in"]}
        old_out = set(before[cid]["out"])
        new_in = [(pk, provider) for pk, provider in after[cid]["in"] if pk not in old_in]
        new_out = [pk for pk in after[cid]["out"] if pk not in old_out]
        sent = set(child.sent)
        stored_in_ids = Counter(provider for _pk, provider in new_in)
        in_twice = sum(n - 1 for n in stored_in_ids.values() if n > 1)
        in_lost_store = len(set(child.acked) - set(stored_in_ids))
        in_lost_console = len({pk for pk, _ in new_in} - console.shown)
        out_shown = {pk for pk in new_out if child.shown.get(pk) == "out"}
        out_lost = len(new_out) - len(out_shown)
        for pk in {pk for pk, _ in new_in} - console.shown:
            when, status = after[cid]["at"][pk]
            lost_times.append(("in", round(when - restart_wall, 1), status))
        for pk in set(new_out) - out_shown:
            when, status = after[cid]["at"][pk]
            lost_times.append(("out", round(when - restart_wall, 1), status))
        row = {
            "child sent": len(sent),
            "child acked": len(child.acked),
            "in stored": len(new_in),
            "in on console": len({pk for pk, _ in new_in} & console.shown),
            "in lost": in_lost_store + in_lost_console,
            "in twice": in_twice,
            "replies sent": console.replies_sent,
            "replies failed": console.replies_failed,
            "out stored": len(new_out),
            "out on child's screen": len(out_shown),
            "out lost": out_lost,
            "out twice": max(0, len(new_out) - console.replies_sent),
            "repeated frames (page ignores)": child.repeats,
            "console reloads retried": console.reload_retries,
            "console reloads failed": console.reload_failures,
        }
        totals.update(row)
        if row["in lost"] or row["in twice"] or row["out lost"] or row["out twice"]:
            bad.append((cid, row))
    print(
        f"sockets closed under the clients: {dict(stats.closes)}; reconnected: {dict(stats.reconnects)}; "
        f"failed connection attempts: {dict(stats.refused)}"
    )
    print(
        f"live at the end: {up[0]}/{count} chats, {up[1]}/{count} consoles; "
        f"all back {back_after:.1f}s after Redis started"
        if back_after is not None
        else f"live at the end: {up[0]}/{count} chats, {up[1]}/{count} consoles; NOT all back"
    )
    for name, value in totals.items():
        print(f"  {name:>32}: {value}")
    print(f"conversations with a message lost or twice: {len(bad)} of {count}")
    if lost_times:
        print("lost (direction, seconds after Redis started, status):", Counter(lost_times).most_common(15))
    for cid, row in bad[:5]:
        print(f"  {cid}: {row}")
    return not bad and back_after is not None


def main():
    args = parse_args()
    database_recreate(args.database_url)
    var_dir = Path(tempfile.mkdtemp(prefix="drill-redis-"))
    redis = RedisServer(args.redis_port or free_port(), var_dir)
    redis.start()
    args.redis_url = f"redis://{HOST}:{redis.port}/0"
    env = base_environment(args, var_dir)
    env["CHANNEL_PREFIX"] = "drill"
    env["HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS"] = "100000"
    django_setup(env)
    sessions = counsellors_create(args.conversations)
    server, port = server_start(
        env, settings_module="config.settings", workers=args.workers, log_path=var_dir / "uvicorn.log"
    )
    workers = task_workers_start(env, args.task_workers, var_dir)
    print(
        f"Redis drill: uvicorn --workers {args.workers}, {args.task_workers} db_worker, PostgreSQL, "
        f"Redis on port {redis.port} (logs in {var_dir})",
        flush=True,
    )
    try:
        passed = asyncio.run(drill(port, sessions, redis, args))
    finally:
        for process in (server, *workers):
            process.terminate()
        for process in (server, *workers):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        redis.kill()
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_drop(args.database_url)
    print("drill PASSED" if passed else "drill FAILED")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
