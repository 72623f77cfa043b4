"""Item 8: limits that a child's chat or an attacker cannot get around.

- message limits count per conversation token across sockets, not per socket;
- the ASGI server refuses a WebSocket frame above the chat's own limit before reading it;
- `make run` and the production recipe trust no client's X-Forwarded-For, so a forged one
  cannot move a login failure or a new chat to another address.

The server tests start uvicorn with exactly the options `make run` and the README's
production recipe pass (read from the Makefile and the README), against the test database.
"""

import asyncio
import json
import re
import shlex
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
import websockets
from axes.models import AccessAttempt
from channels.db import database_sync_to_async
from django.core.cache import cache

from helpline.models import Message
from helpline.webchat.options import MAX_FRAME_BYTES, MESSAGES_PER_WINDOW
from tests.conftest import uvicorn_serving
from tests.helpline.webchat.conftest import Child, new_token

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]


def uvicorn_options(command: str) -> list[str]:
    """The options after the application in a uvicorn command line, without host, port and workers."""
    words = shlex.split(command)
    options = words[words.index("config.asgi:application") + 1 :]
    kept, skip = [], False
    for word in options:
        if skip:
            skip = False
        elif word in ("--host", "--port", "--workers"):
            skip = True
        else:
            kept.append(word)
    return kept


def make_run_command() -> str:
    dry = subprocess.run(["make", "-n", "--no-print-directory", "run"], cwd=ROOT, capture_output=True, text=True)
    joined = dry.stdout.replace("\\\n", " ")
    return next(line for line in joined.splitlines() if "uvicorn" in line)


def production_recipe_command() -> str:
    readme = (ROOT / "README.md").read_text().replace("\\\n", " ")
    return next(line for line in readme.splitlines() if line.startswith("uvicorn config.asgi:application"))


RECIPES = {"make run": make_run_command, "production recipe": production_recipe_command}


@pytest.mark.parametrize("recipe", RECIPES)
def test_both_recipes_set_the_trusted_proxies_and_the_chats_frame_limit(recipe):
    options = uvicorn_options(RECIPES[recipe]())
    assert "--forwarded-allow-ips" in options
    trusted = options[options.index("--forwarded-allow-ips") + 1]
    assert "*" not in trusted and "127.0.0.1" not in trusted
    assert options[options.index("--ws-max-size") + 1] == str(MAX_FRAME_BYTES)


@pytest.fixture(scope="module", params=list(RECIPES))
def recipe_server(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """uvicorn with a recipe's own options, on the test database, reached from 127.0.0.1."""
    env = {
        "HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS": "2",
        # After one failure the pair waits ten minutes: a second try is refused unless it is another pair.
        "HELPLINE_LOGIN_DELAY_SECONDS": "600",
    }
    log_path = tmp_path_factory.mktemp("server") / "uvicorn.log"
    options = uvicorn_options(RECIPES[request.param]())
    with uvicorn_serving(log_path, env=env, options=options, drop=("FORWARDED_ALLOW_IPS",)) as url:
        yield url


def test_a_forged_forwarded_address_does_not_move_a_login_failure(recipe_server):
    with httpx.Client(base_url=recipe_server) as browser:
        browser.get("/login/")
        csrf = browser.cookies["csrftoken"]

        def attempt(forged):
            form = {"username": "counsellor", "password": "not it", "csrfmiddlewaretoken": csrf}
            return browser.post("/login/", data=form, headers={"X-Forwarded-For": forged})

        assert attempt("198.51.100.1").status_code == 200  # a failure, counted
        # Another "address" would be another pair with no wait; the real address still waits.
        refused = attempt("198.51.100.2")
        assert refused.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


async def chat_socket(url, forged):
    return await websockets.connect(
        url.replace("http", "ws") + "/ws/chat/demo/",
        origin=url,
        additional_headers={"X-Forwarded-For": forged},
        max_size=None,
    )


async def test_a_forged_forwarded_address_does_not_open_more_chats(recipe_server, chat_endpoint):
    frames = []
    for n in range(3):
        socket = await chat_socket(recipe_server, f"203.0.113.{n + 1}")
        await socket.send(json.dumps({"type": "hello", "token": new_token(), "language": "en", "age_band": "13-15"}))
        frames.append(json.loads(await asyncio.wait_for(socket.recv(), 10)))
        await socket.close()
    assert [frame["type"] for frame in frames[:2]] == ["ready", "ready"]
    assert frames[2]["type"] == "error" and frames[2]["code"] == "busy"


async def test_the_server_refuses_an_oversized_frame_before_the_chat_reads_it(recipe_server, chat_endpoint):
    socket = await chat_socket(recipe_server, "203.0.113.50")
    huge = json.dumps({"type": "message", "id": str(uuid.uuid4()), "body": "x" * (15 * 1024 * 1024)})
    with pytest.raises(websockets.ConnectionClosed):
        await socket.send(huge)
        await asyncio.wait_for(socket.recv(), 10)  # the chat's own "frame_too_large" would arrive here
    # 1009: "message too big", said by the server's WebSocket layer, not by the application.
    assert socket.close_code == 1009
    # Just under the limit is the application's to judge.
    socket = await chat_socket(recipe_server, "203.0.113.51")
    await socket.send(" " * (MAX_FRAME_BYTES - 1))
    assert json.loads(await asyncio.wait_for(socket.recv(), 10))["code"] == "invalid"
    await socket.close()


async def test_five_sockets_on_one_token_share_one_message_limit(chat_endpoint):
    await database_sync_to_async(cache.clear)()
    token = new_token()
    tabs = []
    for _ in range(5):
        tab = Child()
        assert (await tab.connect())[0]
        assert (await tab.hello(token))["type"] == "ready"
        tabs.append(tab)
    outcomes = []
    for _round in range(MESSAGES_PER_WINDOW):
        for tab in tabs:
            await tab.send({"type": "message", "id": str(uuid.uuid4()), "body": "spam"})
            frame = await tab.receive()
            while frame["type"] not in ("ack", "error"):  # status changes, other tabs' messages
                frame = await tab.receive()
            outcomes.append(frame.get("code", frame["type"]))
    for tab in tabs:
        await tab.close()
    assert outcomes.count("ack") == MESSAGES_PER_WINDOW
    assert outcomes.count("slow_down") == 5 * MESSAGES_PER_WINDOW - MESSAGES_PER_WINDOW
    assert await database_sync_to_async(Message.objects.count)() == MESSAGES_PER_WINDOW


def test_the_frame_limits_say_the_same_as_the_makefile():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^WS_MAX_SIZE := {MAX_FRAME_BYTES}$", makefile, re.MULTILINE)
