"""Overload is shed, not queued: past the in-flight limit a search gets an immediate 503 with Retry-After."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from core.settings import Settings

# -- 6. overload is shed, not queued ---------------------------------------------------------


@pytest.mark.e2e
def test_a_burst_beyond_the_inflight_limit_gets_only_200s_and_prompt_503s(live_server: str) -> None:
    # The live server runs with the default limit; a burst of 8x that many searches at once,
    # each question distinct (no query-vector cache), must be served or refused at once:
    # before shedding, every request queued and the last waited seconds.
    limit = Settings.model_fields["max_inflight_searches"].default
    burst = 8 * limit
    barrier = threading.Barrier(burst)
    results: list[tuple[int, float, str | None]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            barrier.wait()
            t0 = time.perf_counter()
            response = client.post("/search", json={"query": f"drug budget of the health secretariat {i}"})
            with lock:
                results.append((response.status_code, time.perf_counter() - t0, response.headers.get("retry-after")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = Counter(status for status, _, _ in results)
    assert len(results) == burst and set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0 and statuses[200] >= limit, statuses
    assert all(retry == "1" for status, _, retry in results if status == 503)
    accepted = sorted(seconds for status, seconds, _ in results if status == 200)
    # Bounded: at most `limit` searches share the 2 cores, so none waits behind the whole burst.
    assert accepted[-1] < 10.0, f"slowest accepted request took {accepted[-1]:.1f} s"
