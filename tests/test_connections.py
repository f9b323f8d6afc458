"""Connections are bounded (issue 21, finding 8): idle and half-sent requests are closed, and a flood is refused.

Before, 200 connections that sent nothing stayed open (uvicorn's keep-alive
timer runs only after a response), as did one that sent half a request head.
These run ``policyqa serve`` with a short header timeout and a small
connection limit, so that the test takes seconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from core.settings import Settings
from tests.conftest import free_port, policyqa_command, wait_ready

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT = 2.0
MAX_CONNECTIONS = 40


@pytest.fixture(scope="module")
def server(real_settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(real_settings.data_dir),
        "POLICYQA_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "POLICYQA_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    command = [policyqa_command(), "serve", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, time.monotonic() + 120, alive=lambda: process.poll() is None)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _open(url: str, first_bytes: bytes = b"") -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (end of stream or reset), without waiting; unread data is skipped."""
    sock.setblocking(False)
    try:
        while sock.recv(4096):
            pass
    except BlockingIOError:
        return False  # nothing (more) to read and not closed: still open
    except ConnectionResetError:
        return True
    return True


def test_idle_and_half_sent_connections_are_closed_after_the_header_timeout(server: str) -> None:
    with ExitStack() as stack:
        idle = [stack.enter_context(_open(server)) for _ in range(MAX_CONNECTIONS // 2)]
        half = [
            stack.enter_context(_open(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "))
            for _ in range(MAX_CONNECTIONS // 4)
        ]
        time.sleep(HEADER_TIMEOUT / 4)
        assert not any(_closed_by_server(s) for s in idle + half), "closed before the timeout"
        time.sleep(HEADER_TIMEOUT + 1.5)
        still_open = [s for s in idle + half if not _closed_by_server(s)]
    assert still_open == []


def test_a_connection_idle_after_its_response_is_closed_too(server: str) -> None:
    with _open(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")  # then nothing more: a slow second request
        time.sleep(HEADER_TIMEOUT + 1.5)
        assert _closed_by_server(sock)


def test_past_the_connection_limit_a_request_gets_a_json_503_and_then_service_resumes(server: str) -> None:
    with ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS + 5):
            stack.enter_context(_open(server))
        time.sleep(0.2)  # let the server accept them all
        refused = httpx.get(f"{server}/healthz")
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1" and refused.headers["connection"] == "close"
    assert refused.json()["error"] == {
        "type": "overloaded",
        "message": f"the server has too many open connections (limit {MAX_CONNECTIONS}); retry in 1 s",
    }
    time.sleep(0.2)  # the closed connections are gone
    assert httpx.get(f"{server}/healthz").status_code == 200
