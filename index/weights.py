"""The identity of a model on disk: a digest of its files' bytes.

A model's name says nothing about its weights: ``POLICYQA_MODEL_PATH`` may
point at another model, or at the build's own adapted copy, under the same
``model_name``. Vectors made by one model must never be read back as
another's, so the embedding cache and the build fingerprint key by this
digest. Hashing MiniLM's 91 MB takes a fraction of a second; the digest is
remembered by path, size and modification time (in the process, and in an
optional JSON file) so a no-op build does not pay for it every time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["weights_digest"]

_SKIP = {"README.md", ".gitattributes"}
"""Files that do not change what the model computes."""

_memo: dict[tuple[str, ...], str] = {}


def _files(model_dir: Path) -> list[Path]:
    return sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name not in _SKIP)


def _stamp(model_dir: Path, files: list[Path]) -> tuple[str, ...]:
    # What must not change for a remembered digest to stay valid: every file's name, size and mtime.
    out = [str(model_dir.resolve())]
    for path in files:
        st = path.stat()
        out.append(f"{path.relative_to(model_dir).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
    return tuple(out)


def weights_digest(model_dir: Path | str, cache_file: Path | None = None) -> str:
    """sha256 (hex, 16 characters) of every file of ``model_dir`` that shapes its output, names included.

    ``cache_file`` (JSON) remembers digests across processes, keyed by the
    directory's path and its files' sizes and modification times.
    """
    model_dir = Path(model_dir)
    files = _files(model_dir)
    stamp = _stamp(model_dir, files)
    if stamp in _memo:
        return _memo[stamp]
    key = hashlib.sha256("\n".join(stamp).encode()).hexdigest()
    stored: dict[str, str] = {}
    if cache_file is not None:
        try:
            stored = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}  # no file yet, or a damaged one: it is only a cache
        if isinstance(stored, dict) and isinstance(stored.get(key), str):
            _memo[stamp] = stored[key]
            return stored[key]
    h = hashlib.sha256()
    for path in files:
        h.update(path.relative_to(model_dir).as_posix().encode() + b"\0")
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        h.update(b"\0")
    digest = h.hexdigest()[:16]
    _memo[stamp] = digest
    if cache_file is not None:
        stored = stored if isinstance(stored, dict) else {}
        stored[key] = digest
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(stored, indent=0, sort_keys=True), encoding="utf-8")
            tmp.replace(cache_file)
        except OSError:  # a read-only or full data dir still builds; the digest is recomputed next time
            tmp.unlink(missing_ok=True)
    return digest
