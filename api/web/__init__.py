"""The staff web page: search, read the cited section in context, copy a citation for a memo.

One HTML shell (``static/index.html``) serves ``/`` (search view) and
``/read/{section_id}`` (reading view); a small script (``static/app.js``,
no framework, no build step) draws both from the JSON API of the same
server, so the page shows exactly what chat frontends get. Nothing is loaded
from another host: the page works offline on an intranet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "router", "static_files"]

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


def _shell() -> HTMLResponse:
    # Read per request (a few KB): an edited page shows without a restart, and tests see the installed file.
    return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))


@router.get("/", response_class=HTMLResponse)
async def search_page() -> HTMLResponse:
    """The search view; the query and filters live in the URL (``/?q=...&document=...``)."""
    return _shell()


@router.get("/read/{section_id:path}", response_class=HTMLResponse)
async def reading_page(section_id: str) -> HTMLResponse:
    """The reading view of one section (a stable link staff can send); the script fetches the section."""
    return _shell()


def static_files() -> StaticFiles:
    """The page's script and style, mounted at ``/static``."""
    return StaticFiles(directory=STATIC_DIR)
