"""What ``/mcp`` checks before the MCP SDK sees a request: who may call it, and how much it may send.

The MCP specification says a streamable HTTP server MUST validate
``Origin``: otherwise any web page a user opens can drive the tools of a
server on their machine or intranet. Binding to loopback is no defence on
its own, as DNS rebinding makes ``evil.example`` resolve to 127.0.0.1, so
``Host`` is checked too. Allowed are:

- the address the request came in at (the socket's own address: the bind
  address, or the interface reached when bound to ``0.0.0.0``), and
  ``localhost`` when that address is a loopback one;
- the host of ``POLICYQA_PUBLIC_URL`` (the name a reverse proxy serves);
- as origins, those hosts' own origins and ``POLICYQA_CORS_ORIGINS``.

A request without ``Origin`` (a client that is not a browser) passes the
origin check. The SDK has the same check (``TransportSecuritySettings``),
but it takes fixed lists, so it cannot know where a ``0.0.0.0`` bind was
reached, and it answers in plain text. Refusals here are JSON-RPC errors
(403 for a foreign Host or Origin, 400 for a body that is not JSON, 413 for
a body over the limit, declared or chunked), which the SDK's client hands
to the model as the error message.
Stdio has no origin and is not affected.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from mcp.types import INVALID_REQUEST
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import shown
from core.settings import Settings

__all__ = ["AllowedCallers", "McpGuard", "jsonrpc_error"]

_log = logging.getLogger("policyqa.mcp")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def jsonrpc_error(status: int, message: str, code: int = INVALID_REQUEST) -> JSONResponse:
    """An HTTP error whose body is a JSON-RPC error (``id`` null: the request was not read)."""
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}, status)


def _name(host: str) -> str:
    host = host.lower().strip("[]")
    return f"[{host}]" if ":" in host else host


def _host_port(host: str, port: int | None, scheme: str) -> str:
    """``host:port`` in one spelling: lower case, IPv6 in brackets, the scheme's default port written out."""
    return f"{_name(host)}:{port or _DEFAULT_PORTS.get(scheme, 80)}"


def _host_forms(host: str, port: int | None, scheme: str) -> set[str]:
    """How a ``Host`` header names this address: with its port, and without it if that is the default."""
    port = port or _DEFAULT_PORTS.get(scheme, 80)
    forms = {f"{_name(host)}:{port}"}
    if port == _DEFAULT_PORTS.get(scheme):
        forms.add(_name(host))
    return forms


def _origin(value: str) -> str | None:
    """``scheme://host:port`` of a URL or Origin header, or None if it is not an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:  # a port out of range, a malformed IPv6 literal
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return f"{scheme}://{_host_port(host, port, scheme)}"


def _host(value: str) -> str | None:
    """The ``Host`` header in one spelling (``host`` or ``host:port``), or None if it is not one.

    Its port is not defaulted: behind a proxy that ends TLS, the request is
    plain HTTP while the name it was sent to is the public https one.
    """
    try:
        parts = urlsplit(f"//{value.strip()}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.path or parts.query or parts.username is not None:
        return None
    return f"{_name(host)}:{port}" if port else _name(host)


@dataclass(frozen=True, slots=True)
class AllowedCallers:
    """The hosts and origins that may call ``/mcp`` besides the request's own address."""

    hosts: frozenset[str]
    origins: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> AllowedCallers:
        public = urlsplit(settings.public_url)
        hosts = _host_forms(public.hostname, public.port, public.scheme) if public.hostname else set()
        origins = {o for o in map(_origin, [settings.public_url, *settings.cors_origins]) if o}
        return cls(frozenset(hosts), frozenset(origins))

    def own(self, scope: Scope) -> tuple[set[str], set[str]]:
        """Hosts and origins of the address the request came in at (none for a Unix socket)."""
        server = scope.get("server")
        scheme = scope.get("scheme", "http")
        if not server or server[1] is None:
            return set(), set()
        address, port = server
        names = [address]
        try:
            if ipaddress.ip_address(address.strip("[]")).is_loopback:
                names.append("localhost")
        except ValueError:
            pass  # a name, as in tests (``testserver``)
        hosts = {form for name in names for form in _host_forms(name, port, scheme)}
        return hosts, {f"{scheme}://{_host_port(name, port, scheme)}" for name in names}

    def refusal(self, scope: Scope) -> str | None:
        """Why this request may not call MCP, or None if it may."""
        headers = Headers(scope=scope)
        own_hosts, own_origins = self.own(scope)
        value = headers.get("host", "")
        host = _host(value)
        if host is None or host not in own_hosts | self.hosts:
            return (
                f"Host {shown(value)} is not this server's address; MCP answers only at the address it "
                "listens on and at POLICYQA_PUBLIC_URL"
            )
        if "origin" in headers:
            value = headers["origin"]
            if _origin(value) not in own_origins | self.origins:
                return (
                    f"origin {shown(value)} may not call MCP on this server; "
                    "an operator may allow it in POLICYQA_CORS_ORIGINS"
                )
        return None


class McpGuard:
    """ASGI wrapper of the MCP endpoint: Host and Origin checked, body limited, refusals as JSON-RPC."""

    def __init__(self, app: ASGIApp, allowed: AllowedCallers, *, max_body_bytes: int) -> None:
        self.app = app
        self.allowed = allowed
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reason = self.allowed.refusal(scope)
        if reason is not None:
            _log.info("MCP request refused: %s", reason)
            await jsonrpc_error(403, reason)(scope, receive, send)
            return
        ctype = Headers(scope=scope).get("content-type", "")
        if scope["method"] == "POST" and not ctype.lower().startswith("application/json"):
            # The SDK refuses it too, in plain text.
            message = f"Content-Type {shown(ctype)} is not JSON; send JSON-RPC as application/json"
            await jsonrpc_error(400, message)(scope, receive, send)
            return
        body = await self._body(scope, receive)
        if body is None:
            message = f"request body is over {self.max_body_bytes} bytes; send a shorter request"
            await jsonrpc_error(413, message)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _body(self, scope: Scope, receive: Receive) -> list[Message] | None:
        """The request's body messages, read up to the limit; None past it (declared or sent)."""
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return None
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client left; the app sees it as is
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                return messages


def _replay(messages: Iterable[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
