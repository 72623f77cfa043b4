"""The two outside parties of bench/sop_delivery.py, each in its own process (no Django).

    python bench/delivery_peers.py receiver            # prints its port, serves until killed
    python bench/delivery_peers.py client URL FILE I N # posts the bodies of FILE whose index % N == I

**receiver**: a signed-webhook receiver on 127.0.0.1 as docs/WEBHOOK.md tells receivers to be
(the same checks as tests/integrations/webhook/conftest.Receiver): it verifies every signature
over the raw body, parses the JSON, keeps one referral per ``Idempotency-Key`` and answers 201
with its reference. HTTP/1.1 with keep-alive and TCP_NODELAY, every connection on one asyncio
event loop (a thread per connection convoys on the GIL once several clients post at once, and
the ceiling would be the receiver's, not the client's). ``GET /stats`` answers
``{"requests", "referrals", "refused"}``.

**client**: the bare client, the ceiling the outbox is compared with. It reads the prepared
bodies (one JSON line each: ``{"key", "body"}``), waits for a line on stdin (the start), then
posts its share one after the other over one keep-alive ``requests.Session``, signing each body
as the transport does (same headers, same secret), and prints ``done <count>`` when finished.
"""

import asyncio
import json
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integrations.webhook.signing import signature_headers, signature_verify  # noqa: E402

SECRET = "receiver-shared-secret-0123456789"  # tests/integrations/webhook/conftest.SECRET
PATH = "/helpline/referrals"


def receiver() -> None:
    """One event loop for every connection: no thread per connection convoying on the GIL."""
    referrals: dict[str, str] = {}
    counts = {"requests": 0, "refused": 0}

    def answer(status: int, payload: dict) -> bytes:
        body = json.dumps(payload).encode()
        reason = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized"}[status]
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body

    def handle(method: str, path: str, headers: dict, body: bytes) -> bytes:
        if method == "GET" and path == "/stats":
            return answer(200, {**counts, "referrals": len(referrals)})
        if method != "POST" or path != PATH:
            return answer(400, {"error": "no such route"})
        if not signature_verify(
            secret=SECRET,
            timestamp=headers.get("x-helpline-timestamp", ""),
            signature=headers.get("x-helpline-signature", ""),
            body=body,
        ):
            counts["refused"] += 1
            return answer(401, {"error": "bad signature"})
        json.loads(body)
        counts["requests"] += 1
        reference = referrals.setdefault(headers["idempotency-key"], f"AG-{len(referrals) + 1}")
        return answer(201, {"reference": reference, "acknowledged": False})

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                writer.write(handle(method, path, headers, body))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(connection, "127.0.0.1", 0, backlog=256)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(serve())


def client(url: str, path: str, index: int, count: int) -> None:
    import requests

    lines = Path(path).read_text().splitlines()
    mine = [json.loads(line) for number, line in enumerate(lines) if number % count == index]
    session = requests.Session()
    session.trust_env = False
    print("ready", flush=True)
    sys.stdin.readline()
    for item in mine:
        body = item["body"].encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": "helpline-webhook/1",
            "Idempotency-Key": item["key"],
            **signature_headers(secret=SECRET, body=body),
        }
        response = session.post(url, data=body, headers=headers, timeout=15, allow_redirects=False)
        assert response.status_code == 201, response.status_code
        response.json()
    print(f"done {len(mine)}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "receiver":
        receiver()
    else:
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
