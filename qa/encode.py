"""Query vectors: the question encoders and their small LRU cache.

An English question is encoded by MiniLM (the int8 ONNX export the build
wrote into the snapshot, or torch), any other by multilingual-e5. Each
text is encoded once per request (``Vectors``), and a cache of recent
questions serves repeats without a model call.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.settings import Settings
    from index.embed import Embedder
    from index.store import StoredIndex

__all__ = ["QueryEncoder", "Vectors", "query_embedder", "single_threaded_blas"]

_log = logging.getLogger("policyqa.qa")

Vectors = dict[tuple[str, str], np.ndarray]
"""One request's query vectors by (language, text): each text is encoded once per request and
handed to every leg and the answer, even with the cache off."""


class QueryEncoder:
    """Encodes questions, MiniLM for English and multilingual-e5 otherwise, with an LRU cache. Thread-safe."""

    def __init__(self, embedder: Embedder, multilingual: Embedder, cache_size: int) -> None:
        self.embedder = embedder
        self.multilingual = multilingual
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.encodings = 0  # queries encoded by a model since start (cache misses), for the benchmark

    def model(self, language: str) -> Embedder:
        """The encoder of questions in ``language``."""
        return self.embedder if language == "en" else self.multilingual

    def encode(self, text: str, language: str = "en") -> np.ndarray:
        """``text``'s read-only vector, from the cache when it was asked recently."""
        key = (language, text)
        with self._lock:
            vector = self._cache.get(key)
            if vector is not None:
                self._cache.move_to_end(key)
                return vector
        vector = self.model(language).encode([text])[0]
        vector.setflags(write=False)
        with self._lock:
            self.encodings += 1
            self._cache[key] = vector
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return vector

    def vector(self, text: str, language: str, vectors: Vectors) -> np.ndarray:
        """``text``'s vector, encoded at most once per request (``vectors``) whatever the cache holds."""
        key = (language, text)
        vector = vectors.get(key)
        if vector is None:
            vector = vectors[key] = self.encode(text, language)
        return vector


def query_embedder(settings: Settings, index: StoredIndex) -> Embedder:
    """The configured MiniLM query encoder (``settings.query_encoder``) for ``index``.

    ``onnx-int8`` reads the export the build wrote into the snapshot (checksummed with it);
    without one, torch.
    """
    if settings.query_encoder == "onnx-int8":
        from index.onnx_query import ONNX_QUERY_ENCODER, OnnxQueryEmbedder

        path = index.root / ONNX_QUERY_ENCODER
        if path.is_file():
            return OnnxQueryEmbedder(
                path, settings.model_path, settings.model_name, settings.model_max_wordpieces, settings.query_threads
            )
        # A snapshot built without the real model (tests' fake embedder) has no export; torch
        # computes the same vectors, only slower. Every real build writes the file, and a build
        # that lost it fails verification before this point.
        _log.warning("index %s has no %s; encoding queries with torch", index.build_id, ONNX_QUERY_ENCODER)
    from core.errors import IndexStoreError
    from index.embed import SentenceTransformerEmbedder

    # An index built by MiniLM adapted to the reports (index.adapt) is queried by that model.
    adapted = (index.manifest.get("adapted") or {}).get("model_dir")
    if adapted and not Path(adapted).is_dir():
        raise IndexStoreError(f"the adapted model {adapted} of this index is gone; run `policyqa build --force`")
    return SentenceTransformerEmbedder.from_settings(settings, for_queries=True, model_path=adapted)


def single_threaded_blas() -> None:
    """Keep numpy's (and FAISS's) OpenBLAS to one thread in a process that answers queries.

    A query's matrix products are small (a few thousand rows of 384), so BLAS
    threads gain nothing; but after each product they spin, and on 2 cores
    they fight multilingual-e5's OpenMP threads: a Spanish search took 82 ms
    in process, of which the e5 encoding alone is 15 ms, and 17 ms with one
    BLAS thread (measured with a warm retriever, cache off, same questions).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
