"""Latency of ``POST /search`` over HTTP against a running ``policyqa serve``: p50 and p95.

Sends the questions of ``eval/answerability.jsonl`` in turn (top_k=10),
first one request at a time, then from N concurrent clients (threads, one
HTTP connection each), after a short warm-up. Latency is client-side wall
time per request, connection kept alive.

    .venv/bin/policyqa serve --port 8000 &
    .venv/bin/python scripts/bench_search.py --url http://127.0.0.1:8000 --requests 200 --concurrency 8
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from qa.settings import PROJECT_ROOT


def _questions() -> list[str]:
    path = PROJECT_ROOT / "eval" / "answerability.jsonl"
    return [json.loads(line)["query"] for line in path.read_text(encoding="utf-8").splitlines()]


def _run(url: str, questions: list[str]) -> list[float]:
    """Send ``questions`` one after another on one connection; the latency of each, in ms."""
    out: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for q in questions:
            t0 = time.perf_counter()
            client.post("/search", json={"query": q, "top_k": 10}).raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
    return out


def _report(name: str, latencies: list[float], seconds: float) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{name}: n={len(latencies)} p50={cuts[49]:.1f} ms p95={cuts[94]:.1f} ms "
        f"max={max(latencies):.1f} ms throughput={len(latencies) / seconds:.1f} req/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=200, help="requests per phase")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    pool = _questions()
    questions = [pool[i % len(pool)] for i in range(args.requests)]
    _run(args.url, pool[:10])  # warm-up: first calls pay for lazy initialisation

    t0 = time.perf_counter()
    _report("sequential", _run(args.url, questions), time.perf_counter() - t0)

    shares = [questions[i :: args.concurrency] for i in range(args.concurrency)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as executor:
        latencies = [x for part in executor.map(lambda qs: _run(args.url, qs), shares) for x in part]
    _report(f"{args.concurrency} concurrent clients", latencies, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
