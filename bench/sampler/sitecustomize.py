"""A sampling profiler for the benchmarks' server processes (no py-spy needed, nothing to download).

Imported by every Python process started with ``bench/sampler`` on ``PYTHONPATH`` (uvicorn's
worker processes included); it does nothing unless ``HELPLINE_SAMPLE_DIR`` is set. Then a daemon
thread looks at every other thread's stack ``HELPLINE_SAMPLE_HZ`` (200) times a second, under the
label the benchmark writes to ``$HELPLINE_SAMPLE_DIR/label`` (samples without a label are not
kept), and writes ``samples-<kind>-<pid>.json`` (a web worker or a task worker): per label, how
often each stack was seen. A thread
waiting for work (a selector, a lock, an empty queue) counts as idle, not as where time goes.
``bench/realtime.py --profile`` reads the files and prints the summary (``profile_summary``).
"""

import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

IDLE_LEAVES = {
    ("selectors.py", "select"),
    ("threading.py", "wait"),
    ("queue.py", "get"),
    ("thread.py", "_worker"),
    ("base_events.py", "_run_once"),
    ("sitecustomize.py", "_run"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("connection.py", "_recv"),
    # The event loop inside uvloop's C code: waiting, or its own socket work (not Python's to improve).
    ("runners.py", "run"),
    # db_worker between polls.
    ("db_worker.py", "run"),
}


def _frames(frame):
    stack = []
    while frame is not None:
        code = frame.f_code
        stack.append(f"{'/'.join(Path(code.co_filename).parts[-3:])}:{code.co_name}")
        frame = frame.f_back
    return ";".join(reversed(stack))


def _is_idle(frame) -> bool:
    code = frame.f_code
    return (Path(code.co_filename).name, code.co_name) in IDLE_LEAVES


def _cpu_ns(native_id: int) -> int:
    """Nanoseconds a thread of this process has run on a CPU (the scheduler's own count)."""
    try:
        with open(f"/proc/self/task/{native_id}/schedstat") as stats:
            return int(stats.read().split()[0])
    except OSError:
        return 0


def _thread_kind(thread) -> str:
    """The event loop, the consumers' database threads, a request's own thread, or what the name says."""
    if thread is threading.main_thread():
        return "event loop thread"
    name = thread.name
    if name.startswith("helpline-db"):
        return "consumers' database threads"
    if name.startswith("ThreadPoolExecutor-"):
        return "request threads (asgiref, one per request)"
    return name.rstrip("0123456789-_")


def _run(directory: Path, hz: float) -> None:
    counts: dict[str, Counter] = defaultdict(Counter)
    label_file = directory / "label"
    label, next_label_read, next_write = "", 0.0, time.monotonic() + 5
    me = threading.get_ident()
    cpu_seen: dict[int, int] = {}
    out = directory / f"samples-{_KIND.replace(' ', '-')}-{os.getpid()}.json"
    while True:
        now = time.monotonic()
        if now >= next_label_read:
            try:
                label = label_file.read_text().strip()
            except OSError:
                label = ""
            next_label_read = now + 0.25
        if label and _CPU:
            threads = dict(threading._active)
            native_ids = {ident: thread.native_id for ident, thread in threads.items()}
            for ident, frame in sys._current_frames().items():
                if ident == me or ident not in native_ids:
                    continue
                used = _cpu_ns(native_ids[ident])
                # A thread's CPU since the last look is charged to where it is now; a new one's from its start.
                spent = used - cpu_seen.get(ident, 0)
                cpu_seen[ident] = used
                if spent > 0:
                    counts[label][f"[{_thread_kind(threads[ident])}];{_frames(frame)}"] += spent // 1000
        elif label:
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                counts[label]["(idle)" if _is_idle(frame) else _frames(frame)] += 1
        if now >= next_write:
            out.write_text(json.dumps({name: dict(counter) for name, counter in counts.items()}))
            next_write = now + 2
        time.sleep(1 / hz)


# HELPLINE_SAMPLE_CPU=1: weigh each stack by the CPU its thread used (microseconds), not by samples,
# so waiting threads weigh nothing and the event loop's own C work (uvloop) is counted where it runs.
_CPU = os.environ.get("HELPLINE_SAMPLE_CPU") == "1"

# Only the processes that serve: uvicorn's workers (spawned by multiprocessing) and db_workers.
_KIND = "task worker" if "db_worker" in sys.argv else "web worker" if "--multiprocessing-fork" in sys.argv else ""

if os.environ.get("HELPLINE_SAMPLE_DIR") and _KIND:
    threading.Thread(
        target=_run,
        args=(Path(os.environ["HELPLINE_SAMPLE_DIR"]), float(os.environ.get("HELPLINE_SAMPLE_HZ", "200"))),
        daemon=True,
        name="bench-sampler",
    ).start()
