"""Speed and memory benchmark: build times, search latency in process and over HTTP, peak memory.

It measures, it never judges: nothing here fails on a slow figure.

- Builds run as separate ``policyqa build`` processes into a fresh temporary
  data dir, so the timings include interpreter start and imports, as a
  user sees them: a cold build (no index yet) and a rebuild with nothing
  changed. Each child's peak resident memory comes from ``wait4``.
- In-process latency is measured after one untimed warm-up pass over the
  questions, per configuration (``search``), and for a whole request
  (``ask``: search and the extractive answer), with the query-vector cache
  off (``query_cache_size=0``): every timed call encodes its question, as a
  new question would. The encodings per request are counted on that path
  (the model's calls over the requests: 1.0 when nothing encodes twice).
- HTTP: ``policyqa serve`` (``--workers N``, cache off) is started on a free
  loopback port and awaited until ``/readyz`` answers 200 (that wait is the
  reported startup); each concurrency level sends a fixed number of
  ``POST /search`` requests from that many threads, each with its own
  keep-alive connection; then chat completions from one client. Each
  worker's resident memory is read from ``/proc``: RSS, and PSS, which
  splits pages shared between workers (the memory-mapped index, the
  interpreter) among them, so the PSS figures add up to what the server costs.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from statistics import quantiles
from typing import Any

from core.errors import EvaluationError

__all__ = [
    "CONCURRENCY",
    "RELOADS",
    "http_load",
    "latency_summary",
    "process_memory",
    "reload_memory",
    "run_bench",
    "serving",
]

CONCURRENCY: tuple[int, ...] = (1, 4, 8)
CHAT_CONCURRENCY = 1

_CLI = ("-m", "cli")  # the same entry point as the `policyqa` script
_SERVER_START_TIMEOUT = 180.0


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


def _peak_rss_mb(ru_maxrss: int) -> float:
    # Linux reports kilobytes, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return round(ru_maxrss * scale / 2**20, 1)


def _run_cli(args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``policyqa ARGS`` as a child; its wall time, peak RSS and last output line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *_CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:  # EOF when the child exits
        # Passed on as it comes: a cold build's progress shows in a log, not a silent minute.
        print(f"  | {line.rstrip()}", file=sys.stderr, flush=True)
        lines.append(line)
    output = "".join(lines)
    # wait4 (not Popen.wait) so this child's own peak memory is known.
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise EvaluationError(f"policyqa {' '.join(args)} failed ({proc.returncode}): {output.strip()[-500:]}")
    lines = output.strip().splitlines()
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": _peak_rss_mb(usage.ru_maxrss),
        # CPU seconds (user + system, all threads): on a machine shared with other jobs, the wall time
        # says how contended it was as much as how much work was done.
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "output": lines[-1] if lines else "",
    }


def _timed_searches(search: Callable[[str], object], questions: Sequence[str], rounds: int) -> list[float]:
    for q in questions:  # warm-up: caches, lazy imports, first FAISS/torch calls
        search(q)
    out: list[float] = []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            search(q)
            out.append(time.perf_counter() - t0)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], workers: int = 1, **settings: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``policyqa serve`` on a free loopback port, with ``env`` and ``settings`` (``POLICYQA_*`` values).

    Yields the process and its port as soon as it is started (wait with
    ``_wait_ready``); stops it on the way out, killed if it will not stop.
    """
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, *_CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
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


def _wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    """Poll ``GET /readyz`` until 200: the server listens at once and loads the index behind it.

    A server without ``/readyz`` (404) counts as ready once it answers.
    """
    deadline = time.monotonic() + _SERVER_START_TIMEOUT
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
    raise EvaluationError(f"policyqa serve was not ready on port {port} within {_SERVER_START_TIMEOUT:.0f}s")


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


def _workers(pid: int) -> list[int]:
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


def _bench_http(
    env: dict[str, str], questions: Sequence[str], requests: int, log: Callable[[str], None], workers: int = 1
) -> dict[str, Any]:
    with serving(env, workers, POLICYQA_QUERY_CACHE_SIZE="0", POLICYQA_RELOAD_INTERVAL="0") as (proc, port):
        t0 = time.perf_counter()
        _wait_ready(proc, port)
        startup = time.perf_counter() - t0
        log(f"server ready on 127.0.0.1:{port} in {startup:.1f}s")
        http_load(port, questions, min(len(questions), 20), 1)  # warm-up, not reported
        if workers > 1:
            # /readyz answered from one worker; give the others the same warm-up before timing.
            _wait_all_ready(port, workers)
            http_load(port, questions, min(len(questions), 20 * workers), workers)
        levels = []
        for c in CONCURRENCY:
            levels.append(http_load(port, questions, requests, c))
            log(f"HTTP concurrency {c}: done")
        chat = http_load(port, questions, requests, CHAT_CONCURRENCY, path="/v1/chat/completions", body=_chat_body)
        log("HTTP chat completions: done")
        memory = [{"pid": pid, **process_memory(pid)} for pid in _workers(proc.pid)]
        return {
            "startup_s": round(startup, 3),
            "workers": workers,
            "levels": levels,
            "chat": chat,
            "worker_memory": memory,
            "server_peak_rss_mb": max((m.get("peak_rss_mb", 0.0) for m in memory), default=None),
        }


def _wait_all_ready(port: int, workers: int, timeout: float = _SERVER_START_TIMEOUT) -> None:
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


RELOADS = 10


def reload_memory(
    env: dict[str, str], data_dir: Path, log: Callable[[str], None] = lambda _: None, reloads: int = RELOADS
) -> dict[str, Any]:
    """A server's resident memory before and after ``reloads`` reloads of a new build.

    The live build (and the previous one, or a copy of the live one) are
    copied into a temporary data dir; ``policyqa serve`` runs over it,
    polling every 0.2 s, and each round switches ``current`` to the other
    build (``rollback``), waits until ``/readyz`` serves it and asks one
    question. A reload that kept the old snapshot would grow RSS by the
    snapshot each round.
    """
    from index.snapshots import build_id, rollback

    tmp = Path(tempfile.mkdtemp(prefix="policyqa-reloads-"))
    try:
        (tmp / "builds").mkdir()
        current = (data_dir / "current").resolve()
        shutil.copytree(current, tmp / "builds" / current.name)
        previous = (data_dir / "previous").resolve() if (data_dir / "previous").exists() else None
        if previous is None or not (previous / "manifest.json").is_file():
            previous = tmp / "builds" / "00000000T000000-0-copy"
            shutil.copytree(current, previous)
            manifest = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
            (previous / "manifest.json").write_text(json.dumps({**manifest, "build_id": previous.name}))
        else:
            shutil.copytree(previous, tmp / "builds" / previous.name)
        (tmp / "current").symlink_to(f"builds/{current.name}")
        (tmp / "previous").symlink_to(f"builds/{previous.name}")
        with serving(env, POLICYQA_DATA_DIR=str(tmp), POLICYQA_RELOAD_INTERVAL="0.2", POLICYQA_VERIFY_INTERVAL="0") as (
            proc,
            port,
        ):
            _wait_ready(proc, port)
            http_load(port, ["What does priority action 2.6 say?"], 5, 1)
            before = process_memory(proc.pid)
            t0 = time.perf_counter()
            for _ in range(reloads):
                rollback(tmp)
                wanted = build_id(tmp)
                deadline = time.monotonic() + _SERVER_START_TIMEOUT
                while _served_build(port) != wanted:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise EvaluationError(f"the server did not reload build {wanted}")
                    time.sleep(0.1)
                http_load(port, ["What does priority action 2.6 say?"], 1, 1)
            after = process_memory(proc.pid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"{reloads} reloads: RSS {before.get('rss_mb')} -> {after.get('rss_mb')} MB")
    return {
        "reloads": reloads,
        "seconds": round(time.perf_counter() - t0, 1),
        "rss_before_mb": before.get("rss_mb"),
        "rss_after_mb": after.get("rss_mb"),
        "growth_mb": round(after.get("rss_mb", 0.0) - before.get("rss_mb", 0.0), 1),
    }


def _served_build(port: int) -> str | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/readyz")
        body = json.loads(conn.getresponse().read() or b"{}")
        conn.close()
    except (OSError, ValueError):
        return None
    return body.get("build_id") if isinstance(body, dict) else None


def _timed_asks(retriever: Any, questions: Sequence[str], rounds: int) -> tuple[list[float], float]:
    """Latencies of whole requests (search + answer) and the model encodings per request."""
    latencies = _timed_searches(lambda q: retriever.ask(q, k=10), questions, rounds)
    before = retriever.encoder.encodings
    for q in questions:
        retriever.ask(q, k=10)
    return latencies, (retriever.encoder.encodings - before) / len(questions)


def run_bench(
    questions: Sequence[str],
    configs: Sequence[str],
    *,
    rounds: int = 2,
    requests: int = 200,
    build: bool = True,
    http: bool = True,
    workers: int = 2,
    add: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Run the benchmark and return its figures (see the module docstring for what is measured).

    With ``build`` the index is built into a temporary data dir that is
    removed afterwards; without it the configured (live) index is used.
    With ``build`` and ``add``, also the time to add the MEM report to a
    running server (``eval.bench_build.bench_add``).
    """
    from core.settings import Settings, get_settings
    from eval.bench_build import bench_add, leg_rates, snapshot_timings
    from qa.configs import get_config
    from qa.retrieve import Retriever

    for name in configs:
        get_config(name)  # fail on a bad name before minutes of building
    settings = get_settings()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    tmp = Path(tempfile.mkdtemp(prefix="policyqa-bench-")) if build else None
    figures: dict[str, Any] = {
        "meta": {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "questions": len(questions),
            "rounds": rounds,
            "http_requests_per_level": requests,
            "query_encoder": settings.query_encoder,
        }
    }
    try:
        if tmp is not None:
            env["POLICYQA_DATA_DIR"] = str(tmp)
            # Cold means cold: no vectors from an embedding cache kept elsewhere.
            env["POLICYQA_EMBEDDING_CACHE_DIR"] = str(tmp / "embeddings")
            settings = Settings(data_dir=tmp)
            cold = _run_cli(["build", "--force"], env)
            cold["timings"] = snapshot_timings(tmp)
            cold["rates"] = leg_rates(cold["timings"])
            log(f"cold build: {cold['seconds']:.1f}s ({cold['cpu_s']:.0f} CPU s)")
            warm = _run_cli(["build", "--force"], env)
            log(f"rebuild with every vector in the embedding cache: {warm['seconds']:.1f}s")
            noop = _run_cli(["build"], env)
            log(f"no-op build: {noop['seconds']:.1f}s")
            figures["build"] = {
                "cold": cold,
                "cached": warm,
                "noop": noop,
                "how": "separate `policyqa build` processes",
            }
            if add:
                figures["build"]["add"] = bench_add(env, tmp / "add", settings.corpus_dir, _run_cli, log)
        else:
            env["POLICYQA_DATA_DIR"] = str(settings.data_dir)
            figures["build"] = None
        # No query-vector cache: every timed call encodes its question, as a new one would.
        settings = settings.model_copy(update={"query_cache_size": 0})
        t0 = time.perf_counter()
        retriever = Retriever.open(settings)
        figures["verify_ms"] = round(retriever.index.verify_seconds * 1000, 1)
        # MiniLM adapted to the reports (index.adapt): what training cost, in the cold build above
        # (or, with --no-build, when the live index's model was trained).
        figures["adaptation"] = retriever.index.manifest.get("adapted")
        retriever.search("warm up the model", k=10)
        figures["open_s"] = round(time.perf_counter() - t0, 3)
        figures["passages"] = len(retriever.index.passages)
        figures["in_process"] = {}
        for name in configs:
            latencies = _timed_searches(lambda q, name=name: retriever.search(q, k=10, config=name), questions, rounds)
            figures["in_process"][name] = latency_summary(latencies)
            log(f"in-process {name}: done")
        latencies, per_request = _timed_asks(retriever, questions, rounds)
        figures["in_process"]["ask (routed + answer)"] = latency_summary(latencies)
        figures["encodings_per_request"] = round(per_request, 3)
        log(f"in-process ask: done ({per_request:.2f} encodings per request)")
        figures["peak_rss_mb"] = _peak_rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        if not http:
            figures["http"] = {"skipped": "--no-http"}
        else:
            figures["http"] = _bench_http(env, questions, requests, log, workers)
            figures["reloads"] = reload_memory(env, Path(env["POLICYQA_DATA_DIR"]), log)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return figures
