"""`make run` on the embedded default: SQLite, in-memory layer, in-process worker, demo logins printed.

The rest of the suite runs on PostgreSQL; these tests are where SQLite is tried: the demo is
seeded, every page each demo role can reach by following links is opened, and what differs
between the two backends (JSON list lookups, helpline.lookups) is queried.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "HELPLINE_", "DJANGO_"))}
    env.update({"PORT": str(port), "HELPLINE_VAR_DIR": str(tmp_path / "var")})
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115 - read back after the server stops
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield port, env, log, process
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


def wait_for_health(port, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return response.status, json.load(response)
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the embedded server did not answer /healthz in time")


def shell(env, code):
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_run_serves_health_within_a_minute_and_runs_tasks(embedded_server):
    port, env, log, process = embedded_server
    status, body = wait_for_health(port, time.monotonic() + 60)
    assert status == 200
    assert body["checks"]["database"]["vendor"] == "sqlite"
    assert body["checks"]["channel_layer"]["backend"] == "InMemoryChannelLayer"
    assert body["checks"]["tasks"]["inprocess_worker"] is True

    log.seek(0)
    output = log.read()
    assert "user counsellor" in output and "backup codes" in output
    assert f"http://127.0.0.1:{port}/" in output

    # The worker inside the web process picks up work queued by anyone.
    task_id = shell(
        env,
        "from helpline.outbox import outbox_deliver as t; "
        "print(t.enqueue('message', '00000000-0000-0000-0000-000000000000').id)",
    )
    deadline = time.monotonic() + 30
    status_code = ""
    while time.monotonic() < deadline and status_code != "SUCCESSFUL":
        time.sleep(0.5)
        status_code = shell(
            env, f"from django_tasks_db.models import DBTaskResult as R; print(R.objects.get(id='{task_id}').status)"
        )
    assert status_code == "SUCCESSFUL"
    assert process.poll() is None


# --- every page of every demo role, on SQLite ------------------------------------------------

ROLES = ("counsellor", "supervisor", "admin", "authority")
NOT_FOLLOWED = re.compile(r"logout|/i18n/|^mailto:|^tel:|^#|^javascript:")


class _Page(HTMLParser):
    """The links (``href`` of ``a``, ``hx-get`` of anything) and the CSRF token of one page."""

    def __init__(self, text):
        super().__init__()
        self.links, self.csrf = [], ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):
            self.links.append(attrs["hx-get"])
        if tag == "input" and attrs.get("name") == "csrfmiddlewaretoken":
            self.csrf = attrs.get("value") or ""


def demo_logins(output):
    """{role: (password, [backup codes])} as seed_demo printed them."""
    logins = {}
    for role in ROLES:
        match = re.search(rf"user {role}\s+password (\S+)\s+backup codes \(single use\): ([\w, ]+)", output)
        assert match, f"seed_demo printed no login for {role}"
        logins[role] = (match.group(1), [code.strip() for code in match.group(2).split(",")])
    return logins


def log_in(base, username, password, code):
    session = requests.Session()
    page = _Page(session.get(f"{base}/login/", timeout=10).text)
    data = {"csrfmiddlewaretoken": page.csrf, "username": username, "password": password}
    response = session.post(f"{base}/login/", data=data, headers={"Referer": f"{base}/login/"}, timeout=10)
    assert "/2fa/verify/" in response.url, response.status_code
    data = {"csrfmiddlewaretoken": _Page(response.text).csrf, "token": code}
    response = session.post(response.url, data=data, headers={"Referer": response.url}, timeout=10)
    assert "/2fa/" not in response.url and "/login/" not in response.url, response.status_code
    return session


def crawl(base, session, limit=600):
    """Every page reachable from / by GET links (admin filters and sort orders left out): {path: status}."""
    statuses, todo = {}, ["/"]
    while todo and len(statuses) < limit:
        path = todo.pop(0)
        if path in statuses:
            continue
        response = session.get(f"{base}{path}", timeout=30)
        statuses[path] = response.status_code
        if response.status_code >= 400 or "text/html" not in response.headers.get("Content-Type", ""):
            continue
        for link in _Page(response.text).links:
            parts = urlsplit(urljoin(f"{base}{path}", link))
            if NOT_FOLLOWED.search(link) or f"{parts.scheme}://{parts.netloc}" != base:
                continue
            if parts.path.startswith("/static/") or (parts.path.startswith("/admin/") and parts.query):
                continue
            todo.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return statuses


def test_every_page_of_every_demo_role_opens_on_sqlite(embedded_server):
    port, env, log, process = embedded_server
    wait_for_health(port, time.monotonic() + 120)  # (a loaded machine; the minute is the first test's claim)
    base = f"http://127.0.0.1:{port}"
    log.seek(0)
    logins = demo_logins(log.read())

    # The demo's cases were given referral proposals (the SOP chose an agency by region on SQLite).
    proposed = shell(env, "from referrals.models import Referral as R; print(R.objects.exclude(agency=None).count())")
    assert int(proposed) >= 1
    # JSON list lookups on SQLite: whole items only, the same answers as PostgreSQL's @> (tests/referrals).
    found = shell(
        env,
        "from referrals.models import Agency as A; "
        "print(A.objects.filter(regions__has_item='KE-047').count(), "
        "A.objects.filter(regions__has_item='KE-04').count(), "
        "sum('KE-047' in a.regions for a in A.objects.all()))",
    ).split()
    assert found[0] == found[2] != "0" and found[1] == "0"

    pages = {}
    for role, (password, codes) in logins.items():
        session = log_in(base, role, password, codes[0])
        statuses = crawl(base, session)
        failed = {path: status for path, status in statuses.items() if status >= 400}
        assert not failed, f"{role}: {failed}"
        pages[role] = set(statuses)
        if role in ("counsellor", "supervisor"):
            # The resource list searches the JSON lists of needs, languages and regions.
            response = session.get(
                f"{base}/referrals/resources/?need=violence.ocsea.sextortion&region=KE-047", timeout=10
            )
            assert response.status_code == 200 and "Nairobi County Police" in response.text
            for query in ("language=sw", "region=KE-001", "need=violence&language=en&region=KE-047"):
                assert session.get(f"{base}/referrals/resources/?{query}", timeout=10).status_code == 200, query
            response = session.get(f"{base}/cases/?category=violence.ocsea", timeout=10)
            assert response.status_code == 200
    assert {"/console/", "/cases/"} <= pages["counsellor"]
    assert any(path.startswith("/referrals/case/") for path in pages["counsellor"])  # the proposals are linked
    assert {"/supervisor/", "/referrals/attention/"} <= pages["supervisor"]
    assert "/authority/" in pages["authority"]
    assert len([path for path in pages["admin"] if path.endswith("/add/")]) >= 10
    assert process.poll() is None


def _post(base, session, path, data=None):
    headers = {"X-CSRFToken": session.cookies.get("csrftoken"), "Referer": f"{base}{path}", "HX-Request": "true"}
    response = session.post(f"{base}{path}", data=data or {}, headers=headers, allow_redirects=False, timeout=30)
    assert response.status_code in (200, 302), f"POST {path}: {response.status_code}"
    return response


def _a_web_chat_reply_reaches_the_child(base, port, counsellor, *, sms_contact):
    """A child on the web chat gets the counsellor's reply on their socket: on SQLite the reply and its draft's
    removal are one transaction, delivered straight after commit through the in-memory layer."""
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/ws/chat/demo/", origin=base, open_timeout=10) as child:
        child.send(json.dumps({"type": "hello", "token": "c" * 32, "language": "en", "age_band": "13-15"}))
        frames = [json.loads(child.recv(timeout=10))]
        while frames[-1].get("type") != "ready":
            frames.append(json.loads(child.recv(timeout=10)))
        child.send(json.dumps({"type": "message", "id": "00000000-0000-4000-8000-000000000001", "body": "hello?"}))
        _post(base, counsellor, "/console/take/")
        mine = counsellor.get(f"{base}/console/mine/", headers={"HX-Request": "true"}, timeout=10).text
        [chat] = set(re.findall(r"/console/c/([0-9a-f-]{36})/", mine)) - {sms_contact}
        _post(base, counsellor, f"/console/c/{chat}/draft/", {"body": "Draft kept until sent"})
        assert "Draft kept until sent" in counsellor.get(f"{base}/console/c/{chat}/", timeout=10).text
        _post(base, counsellor, f"/console/c/{chat}/send/", {"body": "You reached the helpline."})
        assert "Draft kept until sent" not in counsellor.get(f"{base}/console/c/{chat}/", timeout=10).text
        replies = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not replies:
            frame = json.loads(child.recv(timeout=20))
            if frame.get("type") == "message" and frame.get("direction") == "out":
                replies.append(frame)
        assert [frame["body"] for frame in replies] == ["You reached the helpline."]


def test_a_child_is_answered_and_referred_to_an_agency_on_sqlite(embedded_server):
    port, env, log, process = embedded_server
    wait_for_health(port, time.monotonic() + 120)  # (a loaded machine; the minute is the first test's claim)
    base = f"http://127.0.0.1:{port}"
    log.seek(0)
    output = log.read()
    logins = demo_logins(output)

    # The SMS line seed_demo prints, as printed; the counsellor takes it and replies.
    command = re.search(r"^\s*(PUBLIC_BASE_URL=\S+ \.venv/bin/python manage\.py simulate_sms .+)$", output, re.M).group(
        1
    )
    sms = subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert sms.returncode == 0, sms.stderr
    counsellor = log_in(base, "counsellor", logins["counsellor"][0], logins["counsellor"][1][1])
    _post(base, counsellor, "/console/presence/", {"presence": "available"})
    _post(base, counsellor, "/console/take/")
    mine = counsellor.get(f"{base}/console/mine/", headers={"HX-Request": "true"}, timeout=10).text
    contact = re.search(r"/console/c/([0-9a-f-]{36})/", mine).group(1)
    _post(base, counsellor, f"/console/c/{contact}/send/", {"body": "We are here."})
    _post(base, counsellor, f"/console/c/{contact}/risk/", {"decision": "confirm"})
    pane = counsellor.get(f"{base}/console/c/{contact}/", timeout=10).text
    assert "share my photos" in pane and "We are here." in pane
    _a_web_chat_reply_reaches_the_child(base, port, counsellor, sms_contact=contact)

    # The demo case's proposals: consent, confirmed, a supervisor approves, the police receive one.
    plan = counsellor.get(f"{base}/referrals/case/1/", timeout=10).text
    proposals = list(dict.fromkeys(re.findall(r"/referrals/([0-9a-f-]{36})/confirm/", plan)))
    assert proposals
    for referral in proposals:
        _post(base, counsellor, f"/referrals/{referral}/consent/", {"by": "child", "method": "verbal"})
        _post(base, counsellor, f"/referrals/{referral}/confirm/")
    supervisor = log_in(base, "supervisor", logins["supervisor"][0], logins["supervisor"][1][1])
    plan = supervisor.get(f"{base}/referrals/case/1/", timeout=10).text
    for approval in set(re.findall(r"/referrals/approvals/([0-9a-f-]{36})/decide/", plan)):
        _post(base, supervisor, f"/referrals/approvals/{approval}/decide/", {"decision": "approve", "reason": "ok"})
    authority = log_in(base, "authority", logins["authority"][0], logins["authority"][1][1])
    deadline, sent = time.monotonic() + 30, []
    while time.monotonic() < deadline and not sent:  # delivered by the in-process worker
        sent = re.findall(
            r"/authority/referrals/([0-9a-f-]{36})/", authority.get(f"{base}/authority/", timeout=10).text
        )
        time.sleep(0.5)
    assert sent and set(sent) <= set(proposals)
    _post(base, authority, f"/authority/referrals/{sent[0]}/acknowledge/")
    _post(base, authority, f"/authority/referrals/{sent[0]}/accept/", {"note": "We will call her caregiver."})
    assert "Accepted" in authority.get(f"{base}/authority/referrals/{sent[0]}/", timeout=10).text
    assert process.poll() is None
