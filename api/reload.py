"""Reload without restart: notice a new build in ``data/current``, load it beside the old, swap.

Every ``reload_interval`` seconds the server reads the ``data/current``
link (one ``readlink``). When it names another build, that snapshot is
verified and loaded in a worker thread, sharing the models already in
memory, while requests go on being answered from the old one; then
``app.state.loaded`` is replaced in one assignment. A request holds the
``Loaded`` it started with, so in-flight requests finish on the old
snapshot, whose files the build kept on disk (``data/previous``). A
snapshot that fails to load or verify is not swapped in: the reason is
logged, ``/readyz`` carries it as ``last_reload_error``, and the server
keeps serving what it has (or keeps answering 503 with the reason, if it
never loaded one); that build is not retried until ``current`` changes again.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from api.deps import Loaded, load_failure, ready_state
from api.memory import release_memory
from core.errors import PolicyQAError, public_reason
from index.snapshots import build_id
from qa.retrieve import Retriever

if TYPE_CHECKING:
    from core.settings import Settings
    from index.embed import Embedder

__all__ = ["check_once", "watch"]

_log = logging.getLogger("policyqa.api")


def _load(loaded: Loaded | None, settings: Settings, embedder: Embedder | None) -> Loaded:
    # The models stay and only the index is new; if the startup load failed, load everything.
    retriever = loaded.retriever.reopen() if loaded is not None else Retriever.open(settings, embedder)
    return ready_state(retriever, settings)


async def check_once(app: Any, settings: Settings, embedder: Embedder | None = None) -> bool:
    """Load and swap in the build ``data/current`` names if it is new; whether a swap happened."""
    current = build_id(settings.data_dir)
    loaded: Loaded | None = app.state.loaded
    if current is None and loaded is not None and not (settings.data_dir / "current").exists():
        # The last report was removed (``policyqa remove``): nothing to serve until one is added.
        app.state.loaded = None
        app.state.load_error = "no index: the library is empty; add a report with `policyqa add FILE`"
        _log.info("data/current is gone (the library is empty): no longer serving build %s", loaded.build_id)
        return True
    if current is None or current == app.state.reload_skipped:
        return False
    if loaded is None and app.state.load_error is None:
        return False  # the startup load is still running
    if loaded is not None and loaded.build_id == current:
        return False
    t0 = time.perf_counter()
    try:
        new = await anyio.to_thread.run_sync(_load, loaded, settings, embedder, abandon_on_cancel=True)
    except PolicyQAError as exc:
        app.state.reload_skipped = current
        if loaded is not None:
            _log.error("build %s not loaded, still serving %s: %s", current, loaded.build_id, exc)
            app.state.reload_error = _refused(current, loaded.build_id, exc)  # /readyz says so too
        else:
            app.state.load_error = load_failure(exc)
            _log.error("the index could not be loaded: %s", exc)
        return False
    app.state.loaded = new  # one assignment: the next request sees the new build, in-flight ones the old
    app.state.load_error = None
    app.state.reload_skipped = None
    app.state.reload_error = None
    was = loaded.build_id if loaded is not None else "nothing"
    _log.info("reloaded: now serving build %s (was %s), loaded in %.1f s", new.build_id, was, time.perf_counter() - t0)
    loaded = None  # the old snapshot: nothing here holds it now
    await anyio.to_thread.run_sync(release_memory)  # its pages back to the system (api.memory)
    return True


def _refused(build: str, serving: str, exc: PolicyQAError) -> str:
    """``/readyz``'s ``last_reload_error``: which build, why (no paths: ``public_reason``) and what to run."""
    reason = public_reason(exc)
    fix = "" if "policyqa build" in reason else "; run `policyqa build`"
    return f"build {build} was not loaded (still serving {serving}): {reason}{fix}"


async def watch(app: Any, settings: Settings, embedder: Embedder | None = None) -> None:
    """Poll ``data/current`` every ``settings.reload_interval`` seconds until cancelled."""
    while True:
        await anyio.sleep(settings.reload_interval)
        try:
            await check_once(app, settings, embedder)
        except Exception:  # never let the watcher die: the server would silently stop reloading
            _log.exception("checking for a new build failed")
