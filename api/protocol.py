"""uvicorn's h11 HTTP protocol with this server's connection rules: no Nagle, a header timeout, a JSON 503.

``policyqa serve`` runs uvicorn with ``http="api.protocol:ServerProtocol"``.

- ``TCP_NODELAY`` on every connection, whatever the worker count. With
  ``--workers N`` uvicorn binds the listening socket itself as
  ``socket.socket(family=...)``, whose ``proto`` is 0; asyncio sets
  ``TCP_NODELAY`` on accepted connections only when ``proto`` is
  ``IPPROTO_TCP``, so it was left off. h11 writes a response's headers and
  body in two sends; with Nagle's algorithm the body then waited for the
  client's delayed ACK: every request took 40 ms more with two workers than
  with one (``GET /healthz`` 44 ms against 0.8 ms, measured over loopback).
- A header timeout (``POLICYQA_HEADER_TIMEOUT``): a connection must send a
  complete request head within that many seconds of opening, or of the end
  of its previous response, else it is closed. uvicorn's keep-alive timer
  runs only after a response, so a connection that never sent a request, or
  sent half a head (slowloris), stayed open for ever: 200 such connections
  were still open after 30 s, and would have stayed. A request body still
  arriving is not timed: an uploaded report may be large.
- uvicorn's concurrency limit (``limit_concurrency``, from
  ``POLICYQA_MAX_CONNECTIONS``) answers a request beyond it with a
  plain-text 503; here it is the API's JSON error with ``Retry-After`` and
  ``Connection: close``, as the load shedder's.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import h11
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from core.settings import get_settings

__all__ = ["ServerProtocol"]


class _ConnectionLimit:
    """The app, or a JSON 503 when more than ``limit`` connections are open or requests running."""

    def __init__(self, app: ASGIApp, limit: int, connections: set[Any], tasks: set[Any]) -> None:
        self.app = app
        self.limit = limit
        self.connections = connections
        self.tasks = tasks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Both sets count this connection and this request's task.
        if scope["type"] == "http" and (len(self.connections) > self.limit or len(self.tasks) > self.limit):
            body = {
                "error": {
                    "type": "overloaded",
                    "message": f"the server has too many open connections (limit {self.limit}); retry in 1 s",
                }
            }
            headers = {"Retry-After": "1", "Connection": "close"}
            await JSONResponse(body, status_code=503, headers=headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ServerProtocol(H11Protocol):
    """``H11Protocol`` with ``TCP_NODELAY``, a header timeout and a JSON 503 past the connection limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = get_settings().header_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        if self.limit_concurrency is not None:
            self.app = _ConnectionLimit(self.app, self.limit_concurrency, self.connections, self.tasks)
            self.limit_concurrency = None  # uvicorn's own check would answer first, in plain text

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]
        self._await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()  # the next request's head is due within the timeout too

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        # IDLE: no complete head yet. A body still arriving is left alone: an uploaded report may be large.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
