"""Security headers on every response: what a staff tool on an intranet is expected to send.

- ``X-Content-Type-Options: nosniff`` everywhere: a JSON body that quotes a
  question (``<img onerror=...>``) is never read as HTML, nor a text as script.
- On HTML pages, ``Content-Security-Policy: default-src 'self';
  frame-ancestors 'none'``: scripts, styles, images and requests from this
  server only, no inline script or style (the page keeps them in files), and
  no framing by another site (clickjacking). A route that needs more sets its
  own policy, which is kept (``/docs`` adds ``data:`` images). And
  ``Referrer-Policy: same-origin``: a link out of the page does not carry the
  question in the URL to another host.

The page loads nothing from elsewhere (a test crawls it), so the policy
costs nothing; the browser tests run under it and fail on any violation.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PAGE_POLICY", "SecurityHeaders"]

PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'"


class SecurityHeaders:
    """Adds the headers above to each response start, keeping any a route set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                    headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)
