"""The FastAPI application: one loaded index and model per process, errors as JSON.

``create_app`` is the factory (``uvicorn --factory api.app:create_app``).
At startup it builds the index if it is missing or stale (in a child
process, ``index.child``, so this one keeps only what it serves) and loads
it once, in a worker thread, so ``/healthz`` answers at once, ``/readyz``
shows the build's progress (503 ``building``, step N of M) and turns 200
when the index is ready. ``api.keeper`` watches the served snapshot for
damage and falls back to an intact build. Tests inject a retriever and skip both steps.
Workers scale by process: each process holds its own model, and the index's
vectors are memory-mapped, so workers share them. A server that loaded its
own index watches ``data/current`` and reloads a new build without a
restart (``api.reload``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api import web
from api.adapting import adapt_forever
from api.daemon import in_daemon_thread
from api.deps import load_failure, load_state, loaded_from, ready_state
from api.headers import SecurityHeaders
from api.keeper import Keeper
from api.mcp import MCP_PATH, create_mcp_server
from api.mcp_guard import AllowedCallers, McpGuard
from api.mcp_transport import HttpEndpoint
from api.middleware import HeadAndOptions, LoadShedder
from api.reload import watch
from api.routes import docs, router
from api.routes.admin import UPLOAD_OVERHEAD, UnauthorizedError, admin_router, unauthorized_response
from api.schemas import Progress
from api.validation import field_errors
from core.errors import (
    CorruptIndexError,
    ExtractionError,
    IndexMissingError,
    InvalidQueryError,
    NotFoundError,
    PolicyQAError,
)
from core.settings import Settings, get_settings
from qa.retrieve import Retriever

if TYPE_CHECKING:
    from index.embed import Embedder

__all__ = ["MAX_BODY_BYTES", "create_app"]

MAX_BODY_BYTES = 64 * 1024
"""Largest request body accepted; a question with filters is far smaller."""

_TOO_LARGE = f"request body is over {MAX_BODY_BYTES} bytes; send a shorter question"

_log = logging.getLogger("policyqa.api")

# core.errors -> (status, error type); the first matching class wins, so subclasses come first.
_STATUSES: tuple[tuple[type[PolicyQAError], int, str], ...] = (
    (InvalidQueryError, 422, "invalid_request"),
    (ExtractionError, 422, "invalid_report"),
    (NotFoundError, 404, "not_found"),
    (IndexMissingError, 503, "index_unavailable"),
    (CorruptIndexError, 503, "index_unavailable"),
    (PolicyQAError, 500, "internal_error"),
)


def _error(status: int, kind: str, message: str, detail: list[Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": {"type": kind, "message": message}}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status)


async def _policyqa_error(request: Request, exc: Exception) -> JSONResponse:
    for cls, status, kind in _STATUSES:
        if isinstance(exc, cls):
            if status == 500:
                _log.error("request failed: %s", exc, exc_info=exc)
            return _error(status, kind, str(exc))
    raise exc  # not ours: unreachable, the handler is registered for PolicyQAError only


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    detail = jsonable_encoder(errors, exclude={"input", "ctx", "url"})
    return _error(422, "invalid_request", field_errors(errors, located=True), detail)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    kind = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    message = str(exc.detail)
    if exc.status_code == 413 and request.url.path != "/documents":
        message = _TOO_LARGE
    response = _error(exc.status_code, kind, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


class _DeclaredBodyLimit:
    """Refuse a body whose Content-Length is over the limit with the JSON 413, before reading it.

    Starlette's body limit (set on the routes) catches bodies sent without a
    length, but answers a declared over-long length in plain text itself.
    ``/mcp`` is left to ``McpGuard``, which answers in JSON-RPC.
    """

    def __init__(self, app: ASGIApp, upload_limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.upload_limit = upload_limit  # POST /documents (an admin's upload) takes files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != MCP_PATH:
            length = Headers(scope=scope).get("content-length", "")
            upload = scope["method"] == "POST" and scope["path"] == "/documents"
            limit = self.upload_limit if upload else MAX_BODY_BYTES
            if length.isdigit() and int(length) > limit:
                message = f"the upload is over the size limit of {limit:,} bytes" if upload else _TOO_LARGE
                response = _error(413, "request_entity_too_large", message)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unexpected error", exc_info=exc)
    return _error(500, "internal_error", "the server failed; the error is logged")


def create_app(
    settings: Settings | None = None, retriever: Retriever | None = None, *, embedder: Embedder | None = None
) -> FastAPI:
    """The API over ``settings`` (default: the process settings).

    With ``retriever`` the app is ready at once and never builds or loads;
    without, it builds (if needed) and loads the index at startup, then
    reloads each new build every ``settings.reload_interval`` seconds.
    ``embedder`` (tests: the fake) stands in for both models in that build and load.
    """
    settings = settings or (retriever.settings if retriever is not None else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp_endpoint.running(), anyio.create_task_group() as tg:
            if app.state.loaded is None:
                tg.start_soon(_load_in_background, app, settings, embedder)
                if settings.reload_interval > 0:
                    tg.start_soon(watch, app, settings, embedder)
                if settings.verify_interval > 0:
                    tg.start_soon(app.state.keeper.verify_forever)
                if settings.adapt and embedder is None and settings.reload_interval > 0:
                    # Without reloads the adapted build would wait for a restart: `policyqa build` adapts then.
                    tg.start_soon(adapt_forever, app, settings)
            yield
            tg.cancel_scope.cancel()

    app = FastAPI(
        title="policyqa",
        version="0.1.0",
        summary="Cited search over drug-policy reports, with typed section numbers.",
        description=(
            "Search the drug-policy reports of the loaded collection (GET /documents lists them: MEM "
            "evaluations, UNODC meeting reports, national strategies...). Every result cites its section by id "
            "and typed path (thematic area, objective, priority action, recommendation...) with the exact "
            "character span of the text; the lookups resolve those ids to text. `/v1` is an "
            "OpenAI-compatible chat endpoint whose replies carry a structured `citations` array."
        ),
        lifespan=lifespan,
        docs_url=None,  # served from the package's own assets by api.routes.docs, not a CDN
        redoc_url=None,
    )
    app.state.loaded = ready_state(retriever, settings) if retriever is not None else None
    app.state.load_error = None
    app.state.reload_skipped = None  # a build that failed to load: not retried until data/current changes
    app.state.progress = None  # while the startup build runs: its step (api.schemas.Progress)
    app.state.keeper = Keeper(app, settings)  # damage found in the served snapshot: fall back (api.keeper)
    app.state.uploads_enabled = settings.admin_token is not None  # the page's "Add a report" form
    app.state.max_upload_bytes = settings.max_upload_bytes
    app.state.reload_error = None  # why that build was refused, for /readyz
    app.state.adapting = False  # MiniLM being adapted to the reports in the background (api.adapting)
    app.state.adaptation_error = None  # why the last background adaptation failed, for /readyz
    # The limit is set on the routes, inside the exception handlers, so a 413 is JSON like every error.
    app.include_router(router, max_body_size=MAX_BODY_BYTES)
    if settings.admin_token is not None:  # uploads are off unless an administrator sets a token
        app.include_router(admin_router(settings, embedder), max_body_size=settings.max_upload_bytes + UPLOAD_OVERHEAD)
        app.add_exception_handler(UnauthorizedError, lambda request, exc: unauthorized_response())
    app.include_router(web.router)  # the staff page at / and /read/...
    app.mount("/static", web.static_files(), name="static")
    app.include_router(docs.router)
    app.mount(docs.ASSETS_PATH, docs.docs_assets(), name="docs-assets")
    # MCP over streamable HTTP, on the same loaded index: the tools read app.state at call time.
    mcp_endpoint = HttpEndpoint(
        create_mcp_server(lambda: loaded_from(app), base_url=settings.public_url), max_body_bytes=MAX_BODY_BYTES
    )
    # Only this server's own address and origins (and POLICYQA_CORS_ORIGINS) may call the tools.
    guarded = McpGuard(mcp_endpoint, AllowedCallers.from_settings(settings), max_body_bytes=MAX_BODY_BYTES)
    # POST only: stateless JSON responses need no GET event stream (the tools never notify), and one held
    # a connection open for ever; there is no session to DELETE. Both get 405, which MCP clients expect.
    app.router.add_route(MCP_PATH, guarded, methods=["POST"], include_in_schema=False)
    app.add_exception_handler(PolicyQAError, _policyqa_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    # Searches beyond the limit are refused at once (503 + Retry-After) instead of queueing on 2 cores.
    app.add_middleware(
        LoadShedder, limit=settings.max_inflight_searches, paths=("/search", "/v1/chat/completions", MCP_PATH)
    )
    app.add_middleware(HeadAndOptions)
    app.add_middleware(_DeclaredBodyLimit, upload_limit=settings.max_upload_bytes + UPLOAD_OVERHEAD)
    if settings.cors_origins:
        # None by default: a browser page from another origin may call the API only if listed.
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )
    app.add_middleware(SecurityHeaders)  # outermost: every response, errors and preflights included
    return app


async def _load_in_background(app: FastAPI, settings: Settings, embedder: Embedder | None = None) -> None:
    def on_step(step: int, steps: int, doing: str) -> None:
        app.state.progress = Progress(step=step, steps=steps, doing=doing)  # /readyz: "building", step N of M

    try:
        load = functools.partial(load_state, embedder=embedder, on_step=on_step)
        app.state.loaded = await in_daemon_thread(lambda: load(settings))
        _log.info("index loaded; ready")
    except PolicyQAError as exc:
        # Keep serving: /readyz and every operation answer 503 with a short reason; the
        # detail (absolute paths, library internals) is for the operator's log, not clients.
        app.state.load_error = load_failure(exc)
        _log.error("the index could not be loaded: %s", exc)
    finally:
        app.state.progress = None
