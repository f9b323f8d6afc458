"""Never down for one damaged file: damage is found before it is touched, and an intact build serves meanwhile.

A snapshot is checked three ways:

- at load, every file against its size and sha256 in the manifest
  (``index.snapshots.verify_snapshot``);
- before every request, the size of each memory-mapped file (one ``fstat``
  each, ``StoredIndex.check_mapped``, called by ``api.deps.loaded_from``): a
  vector file truncated under the process would otherwise kill it with SIGBUS
  on the next search;
- every ``settings.verify_interval`` seconds, every file's checksum again, in
  a worker thread (``Keeper.verify_forever``): a block overwritten in place
  keeps its size, and would otherwise be served silently.

On damage the server loads the newest intact build on disk (``data/previous``
first) and serves it; ``/readyz`` says "degraded", which build is damaged,
why, and what to run. ``data/current`` is left as it is: the operator's
``policyqa build`` repairs it (keeping the intact build, see
``index.snapshots.switch_current``) and the server reloads the repair as any new
build. A server started on a damaged ``current`` does the same
(``api.deps.open_state``) instead of answering 503 everywhere.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from api.deps import Degraded, Loaded, load_failure, ready_state
from api.memory import release_memory
from core.errors import CorruptIndexError, PolicyQAError, public_reason
from index.snapshots import build_id, finished_builds, verify_snapshot

if TYPE_CHECKING:
    from core.settings import Settings
    from qa.retrieve import Retriever

__all__ = ["FIX", "Keeper", "fall_back"]

_log = logging.getLogger("policyqa.api")

FIX = "run `policyqa build` to rebuild it (the intact build is kept for rollback)"


def _candidates(data_dir: Path, damaged: str) -> list[Path]:
    """Builds to fall back to: ``previous`` first, then the other finished builds, newest first."""
    builds = finished_builds(data_dir, exclude={damaged})
    previous = build_id(data_dir, "previous")
    return sorted(builds, key=lambda b: b.name != previous)  # stable: keeps newest-first after it


def fall_back(
    settings: Settings, damaged: str, exc: CorruptIndexError, open_root: Callable[[Path], Retriever]
) -> Loaded:
    """The state over the newest intact build but ``damaged``, saying why; ``exc`` again if there is none.

    ``open_root`` loads (and so verifies) one build: a damaged candidate is skipped.
    """
    reason = public_reason(exc).split("; run")[0]
    for root in _candidates(settings.data_dir, damaged):
        try:
            retriever = open_root(root)
        except PolicyQAError as other:
            _log.error("build %s cannot stand in either: %s", root.name, other)
            continue
        _log.error("build %s is damaged (%s); serving build %s instead; %s", damaged, exc, root.name, FIX)
        return ready_state(retriever, settings, Degraded(damaged, reason, FIX))
    raise exc


class Keeper:
    """Watches the served snapshot for damage and swaps in an intact build when it finds some."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._lock = threading.Lock()
        self._handling: set[str] = set()
        self.verify_seconds: float | None = None  # how long the last re-verification took

    def damaged(self, loaded: Loaded, exc: CorruptIndexError) -> None:
        """Stop serving ``loaded`` (its files are damaged) and load an intact build in the background.

        Safe from any thread, and once per damaged build however many requests find it.
        """
        state = self.app.state
        with self._lock:
            if loaded.build_id in self._handling or state.loaded is not loaded:
                return
            self._handling.add(loaded.build_id)
            state.loaded = None  # never read the damaged files again
            reason = public_reason(exc).split("; run")[0]
            state.load_error = f"the index is damaged ({reason}); loading the newest intact build, retry shortly"
            state.reload_skipped = loaded.build_id  # the reload watcher must not load it again
        _log.error("build %s is damaged: %s", loaded.build_id, exc)
        threading.Thread(target=self._fall_back, args=(loaded, exc), name="policyqa-fallback", daemon=True).start()

    def _fall_back(self, loaded: Loaded, exc: CorruptIndexError) -> None:
        state = self.app.state
        try:
            new = fall_back(self.settings, loaded.build_id, exc, loaded.retriever.reopen)
        except PolicyQAError as final:
            state.load_error = load_failure(final)
            _log.error("no intact build to serve: %s", final)
            return
        finally:
            with self._lock:
                self._handling.discard(loaded.build_id)
        state.loaded = new
        state.load_error = None
        del loaded
        release_memory()  # the damaged snapshot's objects (api.memory)

    def verify(self, loaded: Loaded) -> float:
        """Check the served snapshot's mapped sizes, then every file's checksum; the seconds it took."""
        index = loaded.retriever.index
        index.check_mapped()
        return verify_snapshot(index.root, index.manifest)

    async def verify_forever(self) -> None:
        """Re-verify the served snapshot every ``settings.verify_interval`` seconds until cancelled."""
        while True:
            await anyio.sleep(self.settings.verify_interval)
            loaded: Loaded | None = self.app.state.loaded
            if loaded is None:
                continue
            t0 = time.perf_counter()
            try:
                await anyio.to_thread.run_sync(self.verify, loaded, abandon_on_cancel=True)
            except CorruptIndexError as exc:
                self.damaged(loaded, exc)
            except Exception:  # never let the check die: damage would go unseen again
                _log.exception("re-verifying build %s failed", loaded.build_id)
            else:
                self.verify_seconds = time.perf_counter() - t0
                _log.debug("re-verified build %s in %.0f ms", loaded.build_id, self.verify_seconds * 1000)
