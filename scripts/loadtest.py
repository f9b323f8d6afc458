"""Offer a fixed request rate to a running server and report what it accepted, shed and how fast.

An open-loop load: requests start on a fixed schedule whether or not earlier
ones have answered, the way many independent users arrive, so an overloaded
server shows queueing (or shedding) instead of slowing the generator down.
Bounded in count and time, and only for loopback addresses.

    .venv/bin/python scripts/loadtest.py http://127.0.0.1:8000 --rate 50 --seconds 60
    .venv/bin/python scripts/loadtest.py http://127.0.0.1:8000 --rate 20 --seconds 180 --json

Questions cycle through the gold set (``eval/gold.jsonl``), each sent with a
counter suffix so no two requests hit the query-vector cache.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.", "localhost", "[::1]", "::1")


def questions() -> list[str]:
    with (ROOT / "eval" / "gold.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(url: str, rate: float, seconds: float, timeout: float, fresh: bool = True) -> dict[str, object]:
    """Send ``rate * seconds`` POST /search requests on a fixed schedule; the figures of what came back."""
    host = urlparse(url).hostname or ""
    if not host.startswith(LOOPBACK) and host != "::1":
        raise SystemExit(f"refusing to load {host!r}: loopback addresses only")
    qs = questions()
    total = int(rate * seconds)
    statuses: Counter[str] = Counter()
    accepted: list[float] = []
    shed: list[float] = []
    lock = threading.Lock()
    client = httpx.Client(base_url=url, timeout=timeout, limits=httpx.Limits(max_connections=512))

    def one(i: int) -> None:
        body = {"query": f"{qs[i % len(qs)]} ({i})" if fresh else qs[i % len(qs)], "top_k": 5}
        t0 = time.perf_counter()
        try:
            status = str(client.post("/search", json=body).status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        elapsed = (time.perf_counter() - t0) * 1000
        with lock:
            statuses[status] += 1
            (accepted if status == "200" else shed if status == "503" else []).append(elapsed)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=256) as pool:
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i)
    wall = time.perf_counter() - start
    client.close()
    return {
        "offered_rps": rate,
        "requests": total,
        "seconds": round(wall, 1),
        "statuses": dict(statuses),
        "accepted_rps": round(len(accepted) / wall, 1),
        "shed_share": round(len(shed) / total, 3),
        "accepted_ms": {
            "p50": round(statistics.median(accepted), 1) if accepted else None,
            "p95": round(percentile(accepted, 0.95), 1),
            "p99": round(percentile(accepted, 0.99), 1),
            "max": round(max(accepted), 1) if accepted else None,
        },
        "shed_ms_p99": round(percentile(shed, 0.99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second offered")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long (at most 600)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout, s")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    if not 0 < args.seconds <= 600 or not 0 < args.rate <= 500:
        raise SystemExit("--seconds must be in (0, 600] and --rate in (0, 500]")
    result = run(args.url, args.rate, args.seconds, args.timeout)
    if args.json:
        print(json.dumps(result))
        return
    ms = result["accepted_ms"]
    print(
        f"offered {args.rate:g} req/s for {result['seconds']} s: {result['statuses']}; "
        f"accepted {result['accepted_rps']} req/s, shed {result['shed_share']:.1%}; "
        f"accepted p50/p95/p99/max {ms['p50']}/{ms['p95']}/{ms['p99']}/{ms['max']} ms",  # type: ignore[index]
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
