"""Adding and removing reports over HTTP: ``POST /documents``, ``DELETE /documents/{id}``.

Only mounted when ``POLICYQA_ADMIN_TOKEN`` is set (off by default: the
routes then do not exist), and every call needs ``Authorization: Bearer
<token>``. An upload is written to a scratch file under ``data/`` and added
by ``index.add.add_document`` in a worker thread: adds take the library
lock, so concurrent uploads land one after another. The server then loads
the new build at once (``api.reload.check_once``) instead of at its next poll.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, File, Form, Header, Path, Request, UploadFile
from fastapi.responses import JSONResponse

from api.reload import check_once
from core.errors import CorpusError, ExtractionError
from core.settings import Settings

__all__ = ["UPLOAD_OVERHEAD", "UnauthorizedError", "admin_router", "unauthorized_response"]

UPLOAD_OVERHEAD = 64 * 1024
"""Room for the multipart envelope and form fields beside the file itself."""

_CHUNK = 1024 * 1024


class UnauthorizedError(Exception):
    """A missing or wrong bearer token (answered 401 by ``api.app``)."""


def admin_router(settings: Settings, embedder: Any = None) -> APIRouter:
    """The two admin routes, checking ``settings.admin_token``; ``embedder`` (tests) stands in for both models."""
    assert settings.admin_token is not None
    token = settings.admin_token.get_secret_value().encode()

    def authorized(authorization: Annotated[str | None, Header(include_in_schema=False)] = None) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), token):
            raise UnauthorizedError

    router = APIRouter(dependencies=[Depends(authorized)], tags=["admin"])

    @router.post(
        "/documents",
        operation_id="add_document",
        summary="Add a report (admin)",
        description="Upload a PDF, DOCX, HTML, Markdown or text file; it is extracted, cataloged and indexed, and "
        "the server serves the new build when this returns. All or nothing: a bad file (422), a duplicate id "
        "without replace (409) or a file over the size limit (413) changes nothing.",
        status_code=201,
    )
    async def add(
        request: Request,
        file: Annotated[UploadFile, File(description="The report file.")],
        id: Annotated[str | None, Form(description="Its id (default: a slug of its title).")] = None,
        title: Annotated[str | None, Form()] = None,
        publisher: Annotated[str | None, Form()] = None,
        date: Annotated[str | None, Form()] = None,
        scheme: Annotated[str | None, Form()] = None,
        replace: Annotated[bool, Form()] = False,
    ) -> JSONResponse:
        from index.add import add_document

        name = FilePath(file.filename or "upload").name
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        scratch = FilePath(tempfile.mkdtemp(prefix=".upload-", dir=settings.data_dir))
        try:
            path = scratch / name
            size = 0
            with path.open("wb") as out:
                while chunk := await file.read(_CHUNK):
                    size += len(chunk)
                    if size > settings.max_upload_bytes:
                        return _too_large(settings)
                    out.write(chunk)
            added = await anyio.to_thread.run_sync(
                lambda: add_document(
                    settings,
                    path,
                    doc_id=id,
                    title=title,
                    publisher=publisher,
                    date=date,
                    scheme=scheme,
                    replace=replace,
                    embedder=embedder,
                )
            )
        except ExtractionError:
            raise
        except CorpusError as exc:
            return _report_error(exc)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        await check_once(request.app, settings, embedder)
        return JSONResponse({**added.entry, "build_id": request.app.state.loaded.build_id}, status_code=201)

    @router.delete(
        "/documents/{document_id}",
        operation_id="remove_document",
        summary="Remove a report (admin)",
        description="Takes the report out of the catalog, the corpus directory and the index.",
    )
    async def remove(
        request: Request, document_id: Annotated[str, Path(description="A document id from GET /documents.")]
    ) -> dict[str, Any]:
        from index.add import remove_document

        build = await anyio.to_thread.run_sync(lambda: remove_document(settings, document_id, embedder=embedder))
        await check_once(request.app, settings, embedder)
        return {"removed": document_id, "documents": build.documents if build is not None else 0}

    return router


def _too_large(settings: Settings) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "type": "request_entity_too_large",
                "message": f"the file is over the size limit of {settings.max_upload_bytes:,} bytes "
                "(POLICYQA_MAX_UPLOAD_BYTES)",
            }
        },
        status_code=413,
    )


def _report_error(exc: CorpusError) -> JSONResponse:
    duplicate = "already exists" in str(exc)
    kind, status = ("conflict", 409) if duplicate else ("invalid_report", 422)
    return JSONResponse({"error": {"type": kind, "message": str(exc)}}, status_code=status)


def unauthorized_response() -> JSONResponse:
    """The 401 for a missing or wrong token."""
    return JSONResponse(
        {"error": {"type": "unauthorized", "message": "a valid admin token is required: Authorization: Bearer TOKEN"}},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )
