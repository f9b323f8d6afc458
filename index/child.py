"""Run a build in a child process, so the process that asked keeps only what it serves.

A server that built its index in its own process kept the build's memory:
946 MB resident against 331 MB for one that only loaded the index (issue 21:
torch, both models at full precision and the build's arrays stay mapped in
the allocator). ``build_in_child`` runs ``build_index`` in a fresh
interpreter (``spawn``): when it exits, all of that goes with it. Progress
(step N of M) and the outcome come back over a pipe.
"""

from __future__ import annotations

import logging
import multiprocessing
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from core import errors
from core.errors import IndexStoreError, PolicyQAError
from core.types import BuildReport

if TYPE_CHECKING:
    from core.settings import Settings
    from index.build import OnStep
    from index.embed import Embedder

__all__ = ["build_in_child"]

_log = logging.getLogger("policyqa.index")


def _error(name: str, message: str) -> PolicyQAError:
    """The child's error as the same class of ``core.errors`` (plain ``IndexStoreError`` if not one)."""
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, PolicyQAError) and cls.__init__ is PolicyQAError.__init__:
        return cls(message)
    return IndexStoreError(message)


def _run(settings: Settings, embedder: Embedder | None, check_files: bool, out: Connection) -> None:
    """The child: build, sending ("step", (n, m, what)) as it goes, then ("done", report) or ("error", ...)."""
    from core.logs import log_to_stderr, quiet_libraries
    from index.build import build_index

    quiet_libraries()
    log_to_stderr()
    try:
        report = build_index(
            settings, embedder, check_files=check_files, on_step=lambda n, m, what: out.send(("step", (n, m, what)))
        )
    except PolicyQAError as exc:
        out.send(("error", (type(exc).__name__, str(exc))))
    except BaseException as exc:
        logging.getLogger("policyqa.index").exception("the build failed")
        out.send(("error", ("IndexStoreError", f"the build failed: {type(exc).__name__}: {exc}")))
    else:
        out.send(("done", report))
    finally:
        out.close()


def build_in_child(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    check_files: bool = True,
    on_step: OnStep | None = None,
) -> BuildReport:
    """``build_index(settings, embedder, check_files=...)`` in a child process; its report, or its error here.

    The child is a daemon: if this process exits first, the child is
    stopped, and the build, which switches ``data/current`` only when
    complete, leaves the live index as it was (the next build removes its
    unfinished directory).
    """
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of this process is copied
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_run, args=(settings, embedder, check_files, send), name="policyqa-build", daemon=True
    )
    child.start()
    send.close()  # the child holds the only writer: EOF here when it exits
    outcome: tuple[str, Any] | None = None
    try:
        while True:
            try:
                kind, payload = receive.recv()
            except EOFError:
                break
            if kind == "step" and on_step is not None:
                on_step(*payload)
            elif kind in ("done", "error"):
                outcome = (kind, payload)
    finally:
        receive.close()
        child.join()
    if outcome is None:
        raise IndexStoreError(f"the build process ended without a result (exit code {child.exitcode})")
    kind, payload = outcome
    if kind == "error":
        raise _error(*payload)
    return payload  # type: ignore[no-any-return]
