"""What bench/sampler's samples say: per measured phase, where the server processes' busy time went.

Shared by bench/realtime.py and bench/ingest.py (their ``--profile``).
"""

import json
from collections import Counter
from pathlib import Path

# What a busy sample was doing: walking from the innermost frame out, the first frame whose path
# (its last three parts) contains one of a kind's markers decides.
PROFILE_KINDS = [
    ("PostgreSQL (psycopg: send, wait, read)", ("psycopg/", "psycopg_pool/")),
    ("channel layer and cache (Redis)", ("channels_redis/", "redis/", "cache/backends/")),
    ("encryption (vault)", ("helpline/vault/", "cryptography/")),
    ("template rendering", ("django/template/", "templatetags/")),
    ("ORM: building queries, making rows", ("db/models/", "models/sql/", "db/backends/", "db/transaction.py")),
    ("sessions, auth, 2FA", ("contrib/sessions/", "contrib/auth/", "django_otp/", "helpline/session_store.py")),
    (
        "middleware",
        ("django/middleware/", "whitenoise/", "csp/", "helpline/middleware.py", "axes/", "django_htmx/", "messages/"),
    ),
    ("asgiref: thread hand-over", ("asgiref/",)),
    ("Channels consumers", ("channels/",)),
    ("WebSocket frames (websockets, deflate)", ("websockets/",)),
    ("helpline views, services, consumers", ("helpline/", "cases/", "referrals/")),
    ("request handling (Django, uvicorn)", ("core/handlers/", "django/http/", "uvicorn/", "django/urls/")),
]


def _kind_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in PROFILE_KINDS:
            if any(marker in frame for marker in markers):
                return name
    return "other (stdlib, event loop)"


def profile_summary(directory: Path, top: int = 18, cpu: bool = False) -> None:
    """Print, per measured phase, where the server processes' busy samples were (bench/sampler)."""
    merged: dict[tuple[str, str], Counter] = {}
    for path in directory.glob("samples-*.json"):
        kind = "task workers" if path.name.startswith("samples-task-worker") else "web workers"
        for label, stacks in json.loads(path.read_text()).items():
            merged.setdefault((label, kind), Counter()).update(stacks)
    for (label, kind), stacks in sorted(merged.items(), key=lambda item: (int(item[0][0].split()[0]), item[0])):
        busy = {stack: n for stack, n in stacks.items() if stack != "(idle)"}
        total_busy = sum(busy.values()) or 1
        if cpu:
            print(f"\nprofile {label}, {kind}: {total_busy / 1000:.0f} ms of CPU, by the stack it was used in")
        else:
            print(
                f"\nprofile {label}, {kind}: {sum(stacks.values())} thread samples, {total_busy} busy "
                "(threads waiting for work and uvloop's C loop excluded)"
            )
        categories: Counter = Counter()
        inclusive: Counter = Counter()
        leaves: Counter = Counter()
        for stack, n in busy.items():
            frames = stack.split(";")
            leaves[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
            categories[_kind_of(frames)] += n
        if cpu:
            threads: Counter = Counter()
            for stack, n in busy.items():
                threads[stack.split(";", 1)[0]] += n
            print("  by thread:")
            for name, n in threads.most_common():
                print(f"    {100 * n / total_busy:5.1f}%  {name}")
        print("  by kind (innermost frame that names one):")
        for name, n in categories.most_common():
            print(f"    {100 * n / total_busy:5.1f}%  {name}")
        print(f"  top {top} frames, inclusive:")
        for frame, n in inclusive.most_common(top):
            print(f"    {100 * n / total_busy:5.1f}%  {frame}")
        print("  top 10 leaves (self):")
        for frame, n in leaves.most_common(10):
            print(f"    {100 * n / total_busy:5.1f}%  {frame}")
        print("  innermost project frame (helpline, cases, referrals, config):")
        project: Counter = Counter()
        for stack, n in busy.items():
            mine = [f for f in stack.split(";") if any(p in f for p in ("helpline/", "config/", "cases/"))]
            project[mine[-1] if mine else "(none)"] += n
        for frame, n in project.most_common(15):
            print(f"    {100 * n / total_busy:5.1f}%  {frame}")
