"""The MCP server's two transports: the ``/mcp`` endpoint ``policyqa serve`` mounts, and stdio for desktop clients."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from api.deps import Loaded, load_failure, load_state
from api.mcp import MCP_PATH, create_mcp_server
from api.mcp_guard import jsonrpc_error
from core.errors import IndexMissingError, PolicyQAError
from core.settings import Settings

__all__ = ["STDIO_LOAD_WAIT", "HttpEndpoint", "run_stdio"]

_log = logging.getLogger("policyqa.mcp")


class HttpEndpoint:
    """The ASGI endpoint ``policyqa serve`` routes ``/mcp`` to.

    The SDK's session manager runs once per instance, while an app may start
    more than once (tests start one app per client), so each ``running()``
    makes a fresh one. Stateless with JSON responses: no session to pin to one
    worker, so ``--workers N`` serves MCP too. Host, Origin and body size are
    checked in front of it, by ``api.mcp_guard.McpGuard``.
    """

    def __init__(self, server: MCPServer, *, max_body_bytes: int) -> None:
        self._server = server
        self._max_body_bytes = max_body_bytes
        self._handler: Any = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve for the duration of the app's lifespan."""
        handler = self._server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            max_request_body_size=self._max_body_bytes,
            # Host and Origin are checked in front, by McpGuard: it knows the address a request came in at
            # and answers JSON-RPC; the SDK's check takes fixed lists and answers plain text.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with self._server.session_manager.run():
            self._handler = handler
            try:
                yield
            finally:
                self._handler = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._handler is None:
            await jsonrpc_error(503, "MCP is starting; retry shortly")(scope, receive, send)
            return
        await self._handler(scope, receive, send)


# -- stdio -----------------------------------------------------------------------------


STDIO_LOAD_WAIT = 120.0
"""Seconds a stdio tool call waits for the index to load (a first run builds it, ~40 s here)."""


def run_stdio(settings: Settings, *, base_url: str) -> None:
    """Serve MCP on stdin/stdout until the client closes it.

    The index loads in a background thread, so the handshake is immediate; a
    tool called meanwhile waits for it (``STDIO_LOAD_WAIT``), as a desktop
    client spawns the server and calls at once, then gets a clear tool error
    if loading failed or took longer. Logs go to stderr: stdout carries the protocol.
    """
    holder: dict[str, Any] = {"loaded": None, "error": None}
    done = threading.Event()

    def load() -> None:
        try:
            holder["loaded"] = load_state(settings)
            _log.info("index loaded; ready")
            from index.stages import awaits_adaptation

            if awaits_adaptation(settings):  # this server never reloads: say what adapts it (index.stages)
                _log.warning("serving the bundled MiniLM's index: run `policyqa build` to adapt MiniLM to the reports")
        except PolicyQAError as exc:
            # The client gets the short reason the HTTP server gives; the log keeps the detail.
            holder["error"] = load_failure(exc)
            _log.error("the index could not be loaded: %s", exc)
        finally:
            done.set()

    def state() -> Loaded:
        done.wait(STDIO_LOAD_WAIT)
        if holder["loaded"] is None:
            raise IndexMissingError(holder["error"] or "the index is still loading; retry in a few seconds")
        return holder["loaded"]

    threading.Thread(target=load, name="policyqa-load", daemon=True).start()
    create_mcp_server(state, base_url=base_url).run("stdio")
