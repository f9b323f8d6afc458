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

import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.errors import EvaluationError
from eval.reloads import reload_memory
from eval.server import CLI_ARGS, bench_http, latency_summary

__all__ = ["run_bench"]


def _peak_rss_mb(ru_maxrss: int) -> float:
    # Linux reports kilobytes, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return round(ru_maxrss * scale / 2**20, 1)


def _run_cli(args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``policyqa ARGS`` as a child; its wall time, peak RSS and last output line."""
    from index.stages import served_seconds

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *CLI_ARGS, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
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
        # A build that adapted MiniLM (index.stages): when its first stage, the bundled model's, went live.
        "served_s": served_seconds(output),
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
            # A build in two stages (index.stages): the rates of the first, where both models embedded
            # every text; the adapted stage's (MiniLM again) apart.
            staged = cold["served_s"] is not None
            cold["timings"] = snapshot_timings(tmp, "previous" if staged else "current")
            cold["rates"] = leg_rates(cold["timings"])
            cold["adapted_rates"] = leg_rates(snapshot_timings(tmp)) if staged else None
            log(f"cold build: {cold['seconds']:.1f}s ({cold['cpu_s']:.0f} CPU s)")
            if staged:
                log(f"  served with the bundled MiniLM after {cold['served_s']:.1f}s, then adapted")
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
            figures["http"] = bench_http(env, questions, requests, log, workers)
            figures["reloads"] = reload_memory(env, Path(env["POLICYQA_DATA_DIR"]), log)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return figures
