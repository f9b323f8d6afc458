"""Interactive API docs (Swagger UI) served from this server: no CDN, so ``/docs`` works offline.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, a blank page on an
intranet. The assets (Swagger UI 5, which reads OpenAPI 3.1) come from the
``fastapi-offline`` package instead, mounted at ``ASSETS_PATH``; the
``swagger-ui-bundle`` package used before ships Swagger UI 3.20, which
showed "Unable to render this definition" for FastAPI's OpenAPI 3.1.

The page is this module's own rather than FastAPI's ``get_swagger_ui_html``,
whose inline script a strict Content-Security-Policy refuses: Swagger UI
starts from a file (``/static/swagger-init.js``), so the page's policy is
the site's (``api.headers``) plus ``data:`` images, the icons Swagger UI's
stylesheet embeds (measured: without it Chromium reports two violations).
ReDoc is not offered (it would need a policy of its own), nor the OAuth2
redirect page (the API has no OAuth).
"""

from __future__ import annotations

from html import escape
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.headers import PAGE_POLICY

__all__ = ["ASSETS_PATH", "DOCS_POLICY", "docs_assets", "router"]

ASSETS_PATH = "/docs-assets"

DOCS_POLICY = f"{PAGE_POLICY}; img-src 'self' data:"
"""The page's policy, plus the ``data:`` icons (chevrons, copy buttons) in ``swagger-ui.css``."""

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    page = _PAGE.format(
        title=escape(f"{request.app.title} — API docs"),
        assets=ASSETS_PATH,
        openapi_url=escape(request.app.openapi_url or ""),
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})


def docs_assets() -> StaticFiles:
    """Swagger UI's script, style and icon, mounted at ``ASSETS_PATH``."""
    return StaticFiles(directory=str(files("fastapi_offline") / "static"))
