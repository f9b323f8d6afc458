"""Disk space for a build: an estimate checked first, a full disk told in one line, strays removed.

A build writes a new snapshot (about 32 MB for the five reports, 23 MB of it
the int8 ONNX query encoder), exports MiniLM to ONNX in a scratch folder
first (the fp32 graph is as large as the weights, 91 MB, then the int8 one)
and rewrites the embedding cache atomically (old and new side by side).
Measured on a tmpfs: a build with the cache in the data dir peaked at
172 MB above the free space it started with (the estimate below says 191).

A full disk used to surface as whatever the writer said: a 74-line
``OSError: [Errno 28]`` traceback from the cache, "Error parsing message
with type 'onnx.ModelProto'" (the exporter re-reading its own truncated
file), numpy's "271104 requested and 108512 written". ``out_of_space`` tells
them apart from other failures (ENOSPC anywhere in the chain, or no space
left on the device at the moment of the failure), and ``no_space`` is the
one line that replaces them all.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.errors import DiskFullError
from core.settings import Settings

__all__ = [
    "check_space",
    "estimate_mb",
    "no_space",
    "out_of_space",
    "process_alive",
    "remove_strays",
    "write_atomically",
]

_MB = 2**20
_SNAPSHOT_PER_CORPUS_BYTE = 30  # a snapshot without the ONNX encoder: 9 MB for 330 KB of reports (27x)
_CACHE_PER_CORPUS_BYTE = 25  # both models' vectors of every passage and answer unit: 7.3 MB (22x)
_EXPORT_PER_WEIGHT_BYTE = 1.3  # the fp32 ONNX graph (the weights' size) and its int8 copy (a quarter)
_MARGIN = 1.1
_FULL_BYTES = 1 * _MB  # less than this free when a write failed: the disk is what failed


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0


def _same_device(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return True  # not there yet: it will be created under the data dir (the default)


def estimate_mb(settings: Settings, exports_onnx: bool = True) -> int:
    """How many MB a build needs free in the data dir at its peak (an upper estimate)."""
    corpus = sum(_size(settings.corpus_dir / p.name) for p in settings.corpus_dir.iterdir() if p.is_file())
    current = settings.index_dir
    weights = sum(_size(w) for w in Path(settings.model_path).glob("*.safetensors")) if exports_onnx else 0
    # The new snapshot: like the live one if there is one, else from the corpus' size.
    snapshot = _size(current.resolve()) if current.exists() else corpus * _SNAPSHOT_PER_CORPUS_BYTE + weights // 4
    need = snapshot + int(weights * _EXPORT_PER_WEIGHT_BYTE)
    cache = settings.embedding_cache
    if _same_device(cache if cache.exists() else settings.data_dir, settings.data_dir):
        # Each cache file is rewritten beside the old one, and may grow by every text of the corpus.
        need += 2 * _size(cache) + corpus * _CACHE_PER_CORPUS_BYTE
    return max(1, round(need * _MARGIN / _MB))


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def no_space(settings: Settings, needed_mb: int) -> DiskFullError:
    """The one line a full disk becomes."""
    free = _free_bytes(settings.data_dir) // _MB
    return DiskFullError(
        f"no space left in {settings.data_dir}: the build needs about {needed_mb} MB, {free} MB are free"
    )


def check_space(settings: Settings, needed_mb: int) -> None:
    """``no_space`` before anything is written, if the data dir has less free than the build needs."""
    if _free_bytes(settings.data_dir) < needed_mb * _MB:
        raise no_space(settings, needed_mb)


def out_of_space(exc: BaseException, data_dir: Path) -> bool:
    """Whether ``exc`` came from a full disk: ENOSPC in its chain, or the data dir full as it failed.

    Call it before removing what the failed build wrote: that frees the space again.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__cause__ or seen.__context__
    try:
        return _free_bytes(data_dir) < _FULL_BYTES
    except OSError:
        return False


def _writer_alive(tmp: Path) -> bool:
    """Whether the process that names ``tmp`` (``<name>.<pid>.tmp[.npz]``) still runs."""
    parts = tmp.name.split(".")
    pid = next((int(p) for p in reversed(parts) if p.isdigit()), None)
    if pid is None or pid == os.getpid():
        return False
    return process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a killed build's or training's leftovers are removable)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_strays(data_dir: Path, cache_dir: Path, keep: set[str]) -> list[str]:
    """Remove what interrupted or failed builds left (call under the build lock); the names removed.

    Unfinished snapshots (``builds/*`` without a manifest, other than ``keep``), ONNX export
    scratch folders, temporary link names and the embedding cache's temporary files (kept exports' too).
    """
    removed: list[str] = []
    strays = [*data_dir.glob(".export-*"), *data_dir.glob(".current-*"), *data_dir.glob(".previous-*")]
    builds = data_dir / "builds"
    if builds.is_dir():
        strays += [b for b in builds.iterdir() if b.name not in keep and not (b / "manifest.json").is_file()]
    if cache_dir.is_dir():
        # The cache may be shared with builds of other data dirs: only a dead writer's temporaries.
        temporaries = [*cache_dir.glob("*.tmp.npz"), *cache_dir.glob(".*.tmp"), *cache_dir.glob("exports/*/.*.tmp")]
        strays += [t for t in temporaries if not _writer_alive(t)]
    for stray in strays:
        if stray.is_dir() and not stray.is_symlink():
            shutil.rmtree(stray, ignore_errors=True)
        else:
            stray.unlink(missing_ok=True)
        removed.append(stray.name)
    return removed


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through a temporary file beside it, renamed over it once complete and synced.

    Readers see the old file or the new one, never half of one; a failed
    write (a full disk) removes its temporary file instead of leaving it
    (``remove_strays`` catches one left by a killed process).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
