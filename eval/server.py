"""A ``policyqa serve`` under measurement: started on loopback, awaited, loaded with requests, its memory read.

``policyqa bench`` (``eval.bench``), the add step (``eval.bench_build``) and
``--scale`` (``eval.scale``) all start their servers with ``serving``.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from statistics import quantiles
from typing import Any

from core.errors import EvaluationError

__all__ = [
    "CLI_ARGS",
    "CONCURRENCY",
    "SERVER_START_TIMEOUT",
    "bench_http",
    "http_load",
    "latency_summary",
    "process_memory",
    "served_build",
    "serving",
    "wait_all_ready",
    "wait_ready",
    "workers_of",
]

CONCURRENCY: tuple[int, ...] = (1, 4, 8)
CHAT_CONCURRENCY = 1

CLI_ARGS = ("-m", "cli")
"""How a child process runs ``policyqa``: the same entry point as the console script."""
SERVER_START_TIMEOUT = 180.0


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 and mean of latencies, in milliseconds (inclusive percentiles: never beyond the max)."""
    ms = [s * 1000 for s in seconds]
    if len(ms) == 1:
        ms = ms * 2  # quantiles needs two points; one sample is its own percentile
    cuts = quantiles(ms, n=100, method="inclusive")
    return {
        "n": len(seconds),
        "p50_ms": round(cuts[49], 3),
        "p95_ms": round(cuts[94], 3),
        "p99_ms": round(cuts[98], 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], workers: int = 1, **settings: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``policyqa serve`` on a free loopback port, with ``env`` and ``settings`` (``POLICYQA_*`` values).

    Yields the process and its port as soon as it is started (wait with
    ``wait_ready``); stops it on the way out, killed if it will not stop.
    """
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, *CLI_ARGS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env={**env, **settings},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    """Poll ``GET /readyz`` until 200: the server listens at once and loads the index behind it.

    A server without ``/readyz`` (404) counts as ready once it answers.
    """
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EvaluationError(f"policyqa serve exited with {proc.returncode} before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            status = conn.getresponse().status
            conn.close()
            if status in (200, 404):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise EvaluationError(f"policyqa serve was not ready on port {port} within {SERVER_START_TIMEOUT:.0f}s")


def _search_body(question: str, top_k: int) -> dict[str, Any]:
    return {"query": question, "top_k": top_k}


def _chat_body(question: str, top_k: int) -> dict[str, Any]:
    return {"model": "policyqa", "messages": [{"role": "user", "content": question}]}


def http_load(
    port: int,
    questions: Sequence[str],
    requests: int,
    concurrency: int,
    top_k: int = 10,
    *,
    path: str = "/search",
    body: Callable[[str, int], dict[str, Any]] = _search_body,
) -> dict[str, Any]:
    """Send ``requests`` POST ``path`` calls from ``concurrency`` threads; latencies and throughput.

    Questions are taken in turn from ``questions``, each sent as ``body(question, top_k)``;
    latencies and the rate count answered (200) requests; a 503 counts as shed, any other status as an error.
    """
    latencies: list[float] = []
    failed: dict[int, int] = {}  # status -> count, for a hint at what went wrong
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                # Bytes, not str: http.client then sends headers and body in one write. A str body goes
                # in a second write, which Nagle's algorithm holds until the server's delayed ACK:
                # +40 ms on every request over loopback (measured: p50 52 ms against 8 ms).
                payload = json.dumps(body(questions[i % len(questions)], top_k)).encode()
                t0 = time.perf_counter()
                conn.request("POST", path, payload, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - t0
                with lock:
                    if response.status == 200:
                        latencies.append(elapsed)
                    else:
                        failed[response.status] = failed.get(response.status, 0) + 1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "path": path,
        "concurrency": concurrency,
        **latency_summary(latencies),
        # A 503 is the server shedding load on purpose (at most max_inflight_searches at once),
        # not an error; the latencies and the rate are those of the answered requests.
        "shed": failed.pop(503, 0),
        "errors": sum(failed.values()),
        "error_statuses": {str(k): v for k, v in sorted(failed.items())},
        "requests_per_s": round(len(latencies) / wall, 2),
    }


def _server_peak_rss_mb(pid: int) -> float | None:
    return process_memory(pid).get("peak_rss_mb")


def process_memory(pid: int) -> dict[str, float]:
    """Resident memory of process ``pid`` in MB from ``/proc`` (Linux; empty elsewhere).

    ``rss_mb`` now, ``peak_rss_mb`` (VmHWM) and ``pss_mb``: the proportional
    set size, in which a page shared by n processes counts 1/n in each.
    """
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                out["peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def workers_of(pid: int) -> list[int]:
    """The processes serving requests: uvicorn's worker children, or the server itself with one worker."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return [pid]

    # With --workers N uvicorn's parent only supervises; its spawned children serve (and
    # multiprocessing's resource tracker, also a child, does not).
    def spawned(child: int) -> bool:
        try:
            return b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            return False

    return [c for c in children if spawned(c)] or [pid]


def bench_http(
    env: dict[str, str], questions: Sequence[str], requests: int, log: Callable[[str], None], workers: int = 1
) -> dict[str, Any]:
    with serving(env, workers, POLICYQA_QUERY_CACHE_SIZE="0", POLICYQA_RELOAD_INTERVAL="0") as (proc, port):
        t0 = time.perf_counter()
        wait_ready(proc, port)
        startup = time.perf_counter() - t0
        log(f"server ready on 127.0.0.1:{port} in {startup:.1f}s")
        http_load(port, questions, min(len(questions), 20), 1)  # warm-up, not reported
        if workers > 1:
            # /readyz answered from one worker; give the others the same warm-up before timing.
            wait_all_ready(port, workers)
            http_load(port, questions, min(len(questions), 20 * workers), workers)
        levels = []
        for c in CONCURRENCY:
            levels.append(http_load(port, questions, requests, c))
            log(f"HTTP concurrency {c}: done")
        chat = http_load(port, questions, requests, CHAT_CONCURRENCY, path="/v1/chat/completions", body=_chat_body)
        log("HTTP chat completions: done")
        memory = [{"pid": pid, **process_memory(pid)} for pid in workers_of(proc.pid)]
        return {
            "startup_s": round(startup, 3),
            "workers": workers,
            "levels": levels,
            "chat": chat,
            "worker_memory": memory,
            "server_peak_rss_mb": max((m.get("peak_rss_mb", 0.0) for m in memory), default=None),
        }


def wait_all_ready(port: int, workers: int, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Until ``workers`` successive fresh connections all get 200 from /readyz (each may reach any worker)."""
    deadline = time.monotonic() + timeout
    ok = 0
    while ok < 4 * workers and time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            ok = ok + 1 if conn.getresponse().status == 200 else 0
            conn.close()
        except OSError:
            ok = 0
        time.sleep(0.1)


def served_build(port: int) -> str | None:
    """The build id a ready server on ``port`` names at ``/readyz``; None while it is not ready or not answering."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/readyz")
        response = conn.getresponse()
        body = response.read()
        conn.close()
    except OSError:
        return None
    if response.status != 200:
        return None
    try:
        found = json.loads(body).get("build_id")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None
