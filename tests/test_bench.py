"""The benchmark's measuring tools (the benchmark itself never passes or fails on speed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from eval.server import http_load, latency_summary


def test_latency_summary_gives_inclusive_percentiles_in_ms() -> None:
    # 1..100 ms: inclusive percentiles interpolate between samples: p50 = 50.5, p95 = 95.05,
    # p99 = 99.01; the mean is 50.5.
    summary = latency_summary([i / 1000 for i in range(1, 101)])
    assert summary == {"n": 100, "p50_ms": 50.5, "p95_ms": 95.05, "p99_ms": 99.01, "mean_ms": 50.5}


class _Stub(BaseHTTPRequestHandler):
    """A /search stub: answers 200 unless the query says "fail"."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the load driver expects
    queries: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.queries.append(body["query"])
        status = 500 if body["query"] == "fail" else 200
        payload = b'{"results": []}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def stub_port() -> Iterator[int]:
    _Stub.queries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_load_sends_exactly_the_asked_requests_from_all_threads(stub_port: int) -> None:
    result = http_load(stub_port, ["a", "b", "c"], requests=30, concurrency=4)
    # 30 requests cycle over three questions: ten each, whatever the thread interleaving.
    assert (result["n"], result["errors"], result["concurrency"]) == (30, 0, 4)
    assert sorted(_Stub.queries) == ["a"] * 10 + ["b"] * 10 + ["c"] * 10


def test_http_load_counts_non_200_answers_as_errors(stub_port: int) -> None:
    result = http_load(stub_port, ["ok", "fail"], requests=10, concurrency=2)
    # Every second request asks "fail": 5 of 10.
    assert result["errors"] == 5


@pytest.mark.e2e
def test_reload_memory_reports_rss_before_and_after_the_reloads(real_settings) -> None:  # type: ignore[no-untyped-def]
    import os

    from eval.reloads import reload_memory

    figures = reload_memory(dict(os.environ), real_settings.data_dir, reloads=3)
    assert figures["reloads"] == 3
    assert figures["rss_before_mb"] > 0 and figures["rss_after_mb"] > 0
    assert figures["growth_mb"] == round(figures["rss_after_mb"] - figures["rss_before_mb"], 1)
