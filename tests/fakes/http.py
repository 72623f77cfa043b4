"""A real HTTP server on 127.0.0.1 that a test programs: the stand-in for an outside system.

Twilio's REST API, a webhook receiver, NCMEC, IWF, CPIMS: each integration's
tests talk to one of these over a real socket, so the code under test uses its
real HTTP client (timeouts, connection errors, status codes and all) and
nothing leaves the machine. The ``fake_http`` fixture (tests/conftest.py) starts
as many as a test needs and stops them at its end::

    def test_referral_is_retried(fake_http):
        agency = fake_http()
        agency.route("POST", "/cases/", Reply(201, json={"id": "A-1"}))
        agency.fail_first(2, "POST", "/cases/")            # 503 twice, then the 201
        agency.route("GET", "/cases/{case}/", lambda request: Reply(json={"id": request.params["case"]}))
        agency.route("POST", "/slow/", Reply(delay=3))      # answers after 3 s (timeouts)
        agency.route("POST", "/gone/", Reply(drop=True))    # closes the socket: a network failure
        ... the code under test posts to agency.url + "/cases/" ...
        [first, second, third] = agency.requests_to("POST", "/cases/")
        assert third.json() == {...} and third.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]

A route's answers are used once each in order; the last one then answers every
later request (or ``then=``, if given). An answer is a ``Reply`` or a callable
taking the ``Recorded`` request and returning one (to compute an answer, or to
do something first: Twilio posting a status callback before answering).
Requests nobody routed get 404 and are recorded like the others, so a test sees
what was attempted. Every request is recorded, with its headers and raw body,
before it is answered.
"""

import json as jsonlib
import re
import threading
import time
from base64 import b64decode
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict


@dataclass(frozen=True)
class Reply:
    """What the fake answers. ``json`` (any JSON value) sets the body and its content type."""

    status: int = 200
    body: bytes | str = b""
    json: object = None
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering: a slow receiver, for timeouts.
    delay: float = 0.0
    # Close the connection without answering: what a crash or a network failure looks like to the client.
    drop: bool = False

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.json is not None:
            headers.setdefault("Content-Type", "application/json")
            return jsonlib.dumps(self.json).encode(), headers
        body = self.body.encode() if isinstance(self.body, str) else self.body
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return body, headers


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # the route's {placeholders}
    received_at: float = 0.0  # time.monotonic()
    client: tuple = ()  # the client's (address, port): one per connection, to see keep-alive

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def form(self) -> dict[str, str]:
        """An url-encoded form body, first value of each field."""
        return {key: values[0] for key, values in parse_qs(self.text, keep_blank_values=True).items()}

    def json(self):
        return jsonlib.loads(self.body)

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic" or not credentials:
            return None
        user, _, password = b64decode(credentials).decode().partition(":")
        return user, password


Answer = Reply | Callable[[Recorded], Reply]


class _Route:
    def __init__(self, method: str, path: str, answers: list[Answer], then: Answer | None):
        self.method = method.upper()
        self.pattern = re.compile(
            "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$",
        )
        self.queue = list(answers)
        self.then = then

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None

    def next_answer(self) -> Answer:
        if len(self.queue) > 1 or (self.queue and self.then is not None):
            return self.queue.pop(0)
        if self.queue:
            return self.queue[0]  # the last answer sticks
        return self.then if self.then is not None else Reply(404, "No answer left for this route.")


NOT_ROUTED = Reply(404, "No route for this request in the fake.")


class FakeHttpServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 on a free port. Use through the ``fake_http`` fixture."""

    def __init__(self):
        self._routes: list[_Route] = []
        self._recorded: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-http", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeHttpServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- programming it ---

    def route(self, method: str, path: str, *answers: Answer, then: Answer | None = None) -> None:
        """Answer ``method path`` (``{name}`` matches one path segment) with ``answers`` in order.

        A later route for the same method and path replaces the earlier one.
        """
        if not answers and then is None:
            raise ValueError("A route needs at least one answer")
        with self._lock:
            self._routes = [r for r in self._routes if (r.method, r.pattern.pattern) != _key(method, path)]
            self._routes.append(_Route(method, path, list(answers), then))

    def fail_first(self, count: int, method: str, path: str, failure: Answer = Reply(503)) -> None:
        """The next ``count`` requests to an existing route get ``failure``; then it answers as before."""
        with self._lock:
            route = next((r for r in self._routes if (r.method, r.pattern.pattern) == _key(method, path)), None)
            if route is None:
                raise LookupError(f"No route {method} {path} to fail")
            if route.then is None and route.queue:
                # Keep the route's sticky last answer after the failures.
                route.then = route.queue[-1]
            route.queue[:0] = [failure] * count

    # --- what it received ---

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._recorded)

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        probe = _Route(method, path, [NOT_ROUTED], None)
        return [r for r in self.requests if probe.match(r.method, r.path) is not None]

    def clear(self) -> None:
        """Forget the recorded requests (routes stay)."""
        with self._lock:
            self._recorded.clear()

    # --- called by the handler thread ---

    def _answer_for(self, recorded: Recorded) -> tuple[Recorded, Answer]:
        with self._lock:
            for route in self._routes:
                params = route.match(recorded.method, recorded.path)
                if params is not None:
                    recorded = replace(recorded, params=params)
                    answer = route.next_answer()
                    break
            else:
                answer = NOT_ROUTED
            self._recorded.append(recorded)
        return recorded, answer


def _key(method: str, path: str) -> tuple[str, str]:
    route = _Route(method, path, [NOT_ROUTED], None)
    return route.method, route.pattern.pattern


def _handler_for(fake: FakeHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real clients' connection pools expect

        def _handle(self):
            parts = urlsplit(self.path)
            recorded = Recorded(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers=CaseInsensitiveDict(self.headers.items()),
                body=self._body(),
                received_at=time.monotonic(),
                client=tuple(self.client_address),
            )
            recorded, answer = fake._answer_for(recorded)
            reply = answer(recorded) if callable(answer) else answer
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            body, headers = reply.encoded()
            try:
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting (a timeout under test)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()  # the blank line after the last chunk
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        def log_message(self, *args):
            pass  # the requests are in fake.requests; stderr stays clean

    return Handler


@contextmanager
def fake_http_servers() -> Iterator[Callable[[], FakeHttpServer]]:
    """A factory of started fake servers, all stopped on exit (what the ``fake_http`` fixture yields)."""
    started: list[FakeHttpServer] = []

    def start() -> FakeHttpServer:
        server = FakeHttpServer().start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
