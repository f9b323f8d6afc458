"""The staff web page: search, read the cited section in context, copy a citation for a memo.

One HTML shell (``static/index.html``) serves ``/`` (search view) and
``/read/{section_id}`` (reading view); a small script (``static/app.js``,
no framework, no build step) draws both from the JSON API of the same
server, so the page shows exactly what chat frontends get. Nothing is loaded
from another host: the page works offline on an intranet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "router", "static_files"]

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


def _shell(status_code: int = 200) -> HTMLResponse:
    # Read per request (a few KB): an edited page shows without a restart, and tests see the installed file.
    return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"), status_code=status_code)


@router.get("/", response_class=HTMLResponse)
async def search_page() -> HTMLResponse:
    """The search view; the query and filters live in the URL (``/?q=...&document=...``)."""
    return _shell()


@router.get("/read/{section_id:path}", response_class=HTMLResponse)
async def reading_page(section_id: str, request: Request) -> HTMLResponse:
    """The reading view of one section (a stable link staff can send); the script fetches the section.

    A section the loaded index does not have answers 404 (the page still
    says so to the reader), so a link checker or a crawler sees a dead
    link as dead. While the index is loading, the page is served as is: its
    script waits for the index like the search view does.
    """
    loaded = request.app.state.loaded
    missing = loaded is not None and section_id not in loaded.retriever.index.sections
    return _shell(404 if missing else 200)


def static_files() -> StaticFiles:
    """The page's script and style, mounted at ``/static``."""
    return StaticFiles(directory=STATIC_DIR)


@router.get("/web/uploads")
async def uploads(request: Request) -> dict[str, object]:
    """Whether the page shows its "Add a report" form: only when the server has an admin token."""
    return {"enabled": request.app.state.uploads_enabled, "max_bytes": request.app.state.max_upload_bytes}
