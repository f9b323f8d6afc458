"""The embedding cache: every vector a model made, on disk, keyed by the model's weights and the exact text."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from index.embed import Embedder

__all__ = ["CachedEmbedder"]

_SAVE_SECONDS = 60.0
"""Inside ``deferred()``, the longest a cold build's new vectors go unsaved (what a kill would lose)."""


class CachedEmbedder:
    """An embedder that remembers every vector it made, on disk, keyed by model and exact text.

    A build after a code change (chunking, answer units, a scheme fix) embeds
    mostly the same texts again; with both models that is minutes of CPU on
    this machine. The cache makes it seconds: only texts never embedded by
    this model are encoded. Keys are the sha256 of the text, so an edited
    text is a new key; one file per model fingerprint (which names the
    weights' digest, ``index.weights``), so a new model never reads another's
    vectors, whatever its name. The file is rewritten atomically after each
    call that added vectors: an interrupted build keeps what it embedded.
    Inside ``deferred()`` (a build's leg, encoded in calls of 128 texts) it
    is rewritten once at the end instead, and at most every
    ``save_seconds`` on the way: each rewrite is the whole file (3.6 MB per
    model for the bundled corpus, growing with the collection), synced.
    """

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self._inner = inner
        digest = hashlib.sha256(inner.fingerprint.encode()).hexdigest()[:16]
        self._path = cache_dir / f"{digest}.npz"
        self._vectors: dict[bytes, np.ndarray] = {}
        try:
            with np.load(self._path) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
            if vectors.ndim == 2 and vectors.shape[1] == inner.dim:
                self._vectors = dict(zip((k.tobytes() for k in keys), vectors, strict=True))
        except (OSError, ValueError, KeyError):
            pass  # no cache yet, or an unreadable one: start afresh (it is only a cache)
        self.hits = 0
        self.misses = 0
        self.save_seconds = _SAVE_SECONDS
        self._deferring = False
        self._unsaved = False
        self._saved_at = time.monotonic()

    @property
    def inner(self) -> Embedder:
        """The model behind the cache."""
        return self._inner

    @property
    def dim(self) -> int:
        return self._inner.dim

    @property
    def fingerprint(self) -> str:
        return self._inner.fingerprint

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        missing = set(todo)
        self.hits += sum(k not in missing for k in keys)
        if todo:
            text_of = dict(zip(keys, texts, strict=True))
            fresh = self._inner.encode([text_of[k] for k in todo], progress=progress)
            self._vectors.update(zip(todo, np.asarray(fresh, dtype=np.float32), strict=True))
            self.misses += len(todo)
            self._unsaved = True
            if not self._deferring or time.monotonic() - self._saved_at >= self.save_seconds:
                self._save()
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vectors[k] for k in keys]).astype(np.float32)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Within the block, new vectors are written when it ends (or fails), not after every call."""
        self._deferring, self._saved_at = True, time.monotonic()
        try:
            yield
        finally:
            self._deferring = False
            if self._unsaved:
                self._save()

    def _save(self) -> None:
        from index.space import write_atomically

        self._path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._vectors)
        # Digests as raw uint8 rows: numpy's bytes dtype would drop a digest's trailing NUL bytes.
        digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        vectors = np.vstack([self._vectors[k] for k in keys])
        write_atomically(self._path, lambda fh: np.savez(fh, keys=digests, vectors=vectors))
        self._unsaved, self._saved_at = False, time.monotonic()
