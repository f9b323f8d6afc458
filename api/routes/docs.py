"""Interactive API docs (Swagger UI) served from this server: no CDN, so ``/docs`` works offline.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, a blank page on an
intranet. The assets come from the ``swagger-ui-bundle`` package instead,
wired with FastAPI's documented self-hosting recipe (``docs_url=None`` and
this route). ReDoc is not offered: it too would need assets from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["ASSETS_PATH", "docs_assets", "router"]

ASSETS_PATH = "/docs-assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} — API docs",
        oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def docs_assets() -> StaticFiles:
    """Swagger UI's script, style and icons, mounted at ``ASSETS_PATH``."""
    return StaticFiles(directory=str(swagger_ui_path))
