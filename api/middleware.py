"""Protocol-level middleware: HEAD and OPTIONS on every route, and load shedding for searches.

Pure ASGI classes (no ``BaseHTTPMiddleware``): they see every request,
including ``/mcp`` and the static files, and add no task per request.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HeadAndOptions", "LoadShedder"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class HeadAndOptions:
    """``HEAD`` answers like ``GET`` without a body; a plain ``OPTIONS`` lists the allowed methods.

    Load balancers probe ``/healthz`` and ``/readyz`` with HEAD; clients ask
    ``OPTIONS`` what a path accepts. A CORS preflight (``OPTIONS`` with
    ``Access-Control-Request-Method``) is left to the CORS middleware outside.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            if "access-control-request-method" in Headers(scope=scope):
                await self.app(scope, receive, send)  # a preflight the CORS middleware did not take: as is
                return
            await self._options(scope, receive, send)
            return

        async def bodiless(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, bodiless)

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Ask the router itself which methods it would serve here (it nests included routers).
        routes = scope["app"].router.routes
        methods = {
            method
            for method in _METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
        }
        if not methods:
            body = {"error": {"type": "not_found", "message": "no such path"}}
            await JSONResponse(body, status_code=404)(scope, receive, send)
            return
        if "GET" in methods:
            methods.add("HEAD")
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)


class LoadShedder:
    """At most ``limit`` searches in flight; beyond, an immediate 503 with ``Retry-After``.

    On 2 cores a search is CPU-bound: queueing more than the cores can work
    through only makes every caller wait (28 s at 50 req/s offered, measured),
    and some connections close unanswered. Refusing at once keeps the accepted
    requests fast and tells clients when to come back. Only the operations
    that search count (``paths``); lookups and health probes are never shed.
    """

    def __init__(self, app: ASGIApp, *, limit: int, paths: tuple[str, ...], retry_after: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths
        self.retry_after = retry_after
        self._inflight = 0
        self._lock = threading.Lock()
        self.shed = 0  # refused since start, for logs and tests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("OPTIONS", "HEAD") or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        with self._lock:
            accepted = self._inflight < self.limit
            if accepted:
                self._inflight += 1
            else:
                self.shed += 1
        if not accepted:
            body: dict[str, Any] = {
                "error": {
                    "type": "overloaded",
                    "message": f"the server is busy ({self.limit} searches in flight); retry in {self.retry_after} s",
                }
            }
            response = JSONResponse(body, status_code=503, headers={"Retry-After": str(self.retry_after)})
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self._inflight -= 1
