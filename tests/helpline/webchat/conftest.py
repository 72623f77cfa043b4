"""Fixtures for the web chat: a line with its chat endpoint, and a child's socket through the real ASGI stack."""

import secrets

import pytest
from channels.testing import WebsocketCommunicator

from helpline.webchat.services import webchat_endpoint_ensure

# The origin check of config.asgi is part of what runs; a browser always sends one.
ORIGIN = [(b"origin", b"http://testserver")]


@pytest.fixture
def chat_endpoint(demo_line):
    return webchat_endpoint_ensure(line=demo_line)


def new_token() -> str:
    return secrets.token_hex(16)


class Child:
    """One browser tab: a socket to /ws/chat/<line>/ and the frames it gets."""

    def __init__(self, line_slug="demo"):
        from config.asgi import application

        self.communicator = WebsocketCommunicator(application, f"/ws/chat/{line_slug}/", headers=ORIGIN)

    async def connect(self):
        connected, code = await self.communicator.connect(timeout=5)
        return connected, code

    async def hello(self, token, *, language="fr", age_band="13-15"):
        await self.send({"type": "hello", "token": token, "language": language, "age_band": age_band})
        return await self.receive()

    async def send(self, frame):
        await self.communicator.send_json_to(frame)

    async def send_text(self, text):
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout=5):
        return await self.communicator.receive_json_from(timeout=timeout)

    async def nothing(self, timeout=0.5):
        return await self.communicator.receive_nothing(timeout=timeout)

    async def close(self):
        await self.communicator.disconnect()


@pytest.fixture
async def child():
    """Open sockets are closed at the end of the test, even a failed one."""
    opened = []

    async def _open(line_slug="demo", *, token=None, **hello):
        tab = Child(line_slug)
        connected, _code = await tab.connect()
        assert connected
        opened.append(tab)
        if token is not None:
            tab.ready = await tab.hello(token, **hello)
        return tab

    yield _open
    for tab in opened:
        try:
            await tab.close()
        except Exception:  # already closed by the server
            pass
