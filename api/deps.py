"""What every operation shares: the loaded state, the readiness dependency, error descriptions.

One loaded index per process, held on ``app.state.loaded`` and shared by
every router (REST, chat, and later the web page and MCP); operations that
search are plain ``def`` functions, run in FastAPI's thread pool, so a search
never blocks the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from api.schemas import ErrorResponse
from qa.errors import IndexMissingError
from qa.retrieve import Retriever

__all__ = ["ERRORS", "INPUT_ERRORS", "LOOKUP_ERRORS", "Loaded", "Ready", "get_loaded"]


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a ready server holds: the retriever and the corpus texts that citations index into."""

    retriever: Retriever
    texts: dict[str, str]
    created: int  # when the index was loaded (Unix time), the model's "created"


def get_loaded(request: Request) -> Loaded:
    loaded: Loaded | None = request.app.state.loaded
    if loaded is None:
        raise IndexMissingError(request.app.state.load_error or "the index is still loading; retry shortly")
    return loaded


Ready = Annotated[Loaded, Depends(get_loaded)]

# Statuses every operation may answer besides its success, for the OpenAPI description.
ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "The index is not loaded yet."},
}
INPUT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": ErrorResponse, "description": "The body cannot be read (not UTF-8 JSON)."},
    413: {"model": ErrorResponse, "description": "The request body is over 64 KiB."},
    422: {"model": ErrorResponse, "description": "Invalid input; the message says what to fix."},
}
LOOKUP_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorResponse, "description": "No such id."},
}
