"""Two timed steps of a build: embedding one leg's texts with progress logged, and exporting the query encoder."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from core.logs import PROGRESS_SECONDS
from index.embed import Embedder

__all__ = ["LegStoppedError", "encode_logged", "export_query_encoder"]

_log = logging.getLogger("policyqa.index")

_LOG_CHUNK = 128  # texts per encode call when logging progress; the model batches inside each call


def encode_logged(
    embedder: Embedder,
    texts: list[str],
    what: str,
    progress: bool,
    timings: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> np.ndarray:
    """``embedder.encode(texts)``, logging "embedded N/M what" at most every ``PROGRESS_SECONDS``.

    With ``progress`` (a terminal) the model's own bar shows instead. Texts
    go to the model shortest first, so each call's batches pad little; the
    rows come back in ``texts``' order. With ``timings``, the leg's texts,
    the ones actually encoded (cache misses), seconds, CPU seconds and rate
    go there under ``what`` (the snapshot's manifest keeps them for
    ``policyqa bench``). ``stop`` (set by a failed leg running beside this
    one) ends it with ``LegStoppedError`` before its next call.
    """
    t0 = time.monotonic()
    cpu0 = time.process_time()
    misses = getattr(embedder, "misses", None)
    deferred = getattr(embedder, "deferred", None)  # the embedding cache: written once per leg, not per call
    with deferred() if deferred is not None else nullcontext():
        vectors = _encode_chunks(embedder, texts, what, progress, t0, stop)
    if timings is not None:
        seconds = time.monotonic() - t0
        encoded = getattr(embedder, "misses", 0) - misses if misses is not None else len(texts)
        timings[what] = {
            "texts": len(texts),
            "encoded": encoded,
            "seconds": round(seconds, 3),
            # CPU seconds of the whole process (all threads): on a shared machine, the work behind the wall time.
            "cpu_s": round(time.process_time() - cpu0, 3),
            "texts_per_s": round(encoded / seconds, 2) if encoded and seconds > 0 else None,
        }
    return vectors


class LegStoppedError(Exception):
    """A leg stopped because the leg running beside it failed (that failure is the one reported)."""


def _encode_chunks(
    embedder: Embedder, texts: list[str], what: str, progress: bool, t0: float, stop: threading.Event | None
) -> np.ndarray:
    """``embedder.encode(texts)`` in calls of ``_LOG_CHUNK`` texts, shortest first, logging progress."""
    if progress or len(texts) <= _LOG_CHUNK:
        return embedder.encode(texts, progress=progress)
    last = t0
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), _LOG_CHUNK):
        if stop is not None and stop.is_set():
            raise LegStoppedError(f"stopped embedding {what}: the other model's leg failed")
        chosen = order[start : start + _LOG_CHUNK]
        vectors[chosen] = embedder.encode([texts[i] for i in chosen])
        now = time.monotonic()
        done = min(start + _LOG_CHUNK, len(texts))
        if now - last >= PROGRESS_SECONDS or done == len(texts):
            _log.info("embedded %d/%d %s (%.0f s)", done, len(texts), what, now - t0)
            last = now
    return vectors


_EXPORT_LIBRARIES = ("torch", "onnx", "onnxruntime", "transformers", "sentence-transformers")
"""What the int8 query encoder's bytes depend on besides the weights and ``index/onnx_query.py``."""


def export_query_encoder(embedder: Embedder, scratch: Path, cache_dir: Path | None = None) -> tuple[Path, ...]:
    """The int8 ONNX query encoder of the real MiniLM (none for a fake, which has no ``export_onnx``).

    With ``cache_dir`` (the embedding cache), the export is made once per
    model fingerprint (its weights' digest), export code and library
    versions and reused by later builds (``index.export_cache``): a build
    adding one report no longer pays for it. Without, it is made into ``scratch``.
    """
    export = getattr(embedder, "export_onnx", None)
    if export is None:
        return ()
    t0 = time.monotonic()
    if cache_dir is None:
        path, made = export(scratch), True
    else:
        from index.code import code_hash
        from index.export_cache import export_key, kept_export
        from index.onnx_query import ONNX_QUERY_ENCODER

        key = export_key([embedder.fingerprint, code_hash(["index/onnx_query.py"])], _EXPORT_LIBRARIES)
        path, made = kept_export(cache_dir, key, ONNX_QUERY_ENCODER, lambda: export(scratch))
    what = "exported" if made else "reused the kept export of"
    _log.info("%s the int8 ONNX query encoder (%.0f s)", what, time.monotonic() - t0)
    return (path,)
