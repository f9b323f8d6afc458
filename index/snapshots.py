"""Snapshots on disk: checksums, verification, and the ``current`` / ``previous`` links.

A build writes a complete snapshot into its own directory under
``data/builds/`` and then switches the ``data/current`` symlink to it with
one atomic rename, so readers see either the old index or the new one,
never half of each. The manifest lists every other file of the snapshot
with its size and sha256, and ``verify_snapshot`` checks them: a truncated
file, a flipped byte or a garbled line is a ``CorruptIndexError`` naming
the file.

The previous build stays on disk beside the current one (``data/previous``),
so ``rollback`` can switch back and a running server's snapshot is never
deleted under it by the next build. A damaged build never becomes
``previous`` and the last intact one is never pruned (``switch_current``):
a repair keeps the good copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from core.errors import CorruptIndexError, IndexMissingError, IndexStoreError

__all__ = [
    "MANIFEST",
    "build_id",
    "checksums",
    "clear_current",
    "corrupt",
    "file_sha256",
    "finished_builds",
    "read_manifest",
    "rollback",
    "switch_current",
    "verify_snapshot",
]

_log = logging.getLogger("policyqa.index")

MANIFEST = "manifest.json"
_PREVIOUS = "previous"  # data/previous: the build before the current one, kept for rollback


def file_sha256(path: Path) -> str:
    """The sha256 of the file at ``path``, in hex (read in chunks, never whole into memory)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _digest_or_error(path: Path) -> str | OSError:
    try:
        return file_sha256(path)
    except OSError as exc:
        return exc


def checksums(root: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of every file under ``root`` but the manifest, by relative path."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel != MANIFEST:
            out[rel] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    return out


def corrupt(root: Path, name: str, problem: str) -> CorruptIndexError:
    return CorruptIndexError(f"index file {root / name} {problem}; run `policyqa build` to rebuild the index")


def verify_snapshot(root: Path, manifest: dict[str, Any] | None = None) -> float:
    """Check every file of the snapshot at ``root`` against its manifest; the seconds it took.

    Sizes first (a truncated file is found without reading it), then the
    sha256 of each file. Raises ``CorruptIndexError`` naming the first file
    that is missing or differs, with what to do about it.
    """
    t0 = time.perf_counter()
    if manifest is None:
        manifest = read_manifest(root)
        if manifest is None:
            raise IndexMissingError(f"no index at {root}; run `policyqa build` first")
    files: dict[str, dict[str, Any]] = manifest.get("files") or {}
    if not files:
        raise corrupt(root, MANIFEST, "lists no files to check")
    for name, expected in files.items():
        try:
            size = (root / name).stat().st_size
        except FileNotFoundError:
            raise corrupt(root, name, "is missing") from None
        except OSError as exc:
            raise corrupt(root, name, f"cannot be read ({exc.strerror})") from exc
        if size != expected["size"]:
            raise corrupt(root, name, f"is {size} bytes, the build wrote {expected['size']}")
    # Hashed on every core (hashlib releases the GIL): at 300 reports the files are about 1 GB.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        digests = pool.map(_digest_or_error, [root / name for name in files])
        for (name, expected), digest in zip(files.items(), digests, strict=True):
            if isinstance(digest, OSError):
                raise corrupt(root, name, f"cannot be read ({digest.strerror})") from digest
            if digest != expected["sha256"]:
                raise corrupt(root, name, "does not match its checksum (changed or damaged since the build)")
    return time.perf_counter() - t0


def build_id(data_dir: Path, which: str = "current") -> str | None:
    """The build ``data_dir/current`` (or ``previous``) points at, from the link alone; None if none.

    Cheap enough to poll every few seconds: one ``readlink``.
    """
    try:
        return Path(os.readlink(data_dir / which)).name
    except OSError:
        return None


def _point(data_dir: Path, name: str, target: Path) -> None:
    link = data_dir / name
    tmp = data_dir / f".{name}-{target.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target.relative_to(data_dir))
    tmp.replace(link)  # rename(2) over the old link is atomic


def _intact(root: Path) -> bool:
    try:
        verify_snapshot(root)
    except IndexStoreError:
        return False
    return True


def switch_current(data_dir: Path, target: Path) -> None:
    """Point ``data_dir/current`` at ``target`` atomically; the newest intact other build becomes ``previous``.

    That is the old current, unless its files no longer match their
    checksums: a repair build then keeps the intact ``previous`` it had (a
    damaged build is never kept for rollback, and the last intact one is
    never removed). Only current and previous are kept: older builds are
    removed. A server still on the old current keeps its files until it has
    reloaded (its next poll, seconds later; builds take far longer).
    """
    builds = data_dir / "builds"
    candidates = [build_id(data_dir), build_id(data_dir, _PREVIOUS)]
    previous = next(
        (
            name
            for name in candidates
            if name is not None and name != target.name and (builds / name).is_dir() and _intact(builds / name)
        ),
        None,
    )
    if previous is not None:
        _point(data_dir, _PREVIOUS, builds / previous)
    else:
        (data_dir / _PREVIOUS).unlink(missing_ok=True)
    _point(data_dir, "current", target)
    _prune(data_dir)


def clear_current(data_dir: Path) -> None:
    """No live index (the library was emptied): ``current`` goes, its build becomes ``previous``."""
    old = build_id(data_dir)
    if old is None:
        return
    if (data_dir / "builds" / old / MANIFEST).is_file():
        _point(data_dir, _PREVIOUS, data_dir / "builds" / old)
    (data_dir / "current").unlink(missing_ok=True)


def _prune(data_dir: Path) -> None:
    keep = {build_id(data_dir), build_id(data_dir, _PREVIOUS)}
    for old in (data_dir / "builds").iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def finished_builds(data_dir: Path, exclude: set[str] | frozenset[str] = frozenset()) -> list[Path]:
    """Finished builds under ``data_dir/builds`` but ``exclude``, newest first (not verified here).

    Build directories are named by their start time, so their names sort by age.
    """
    builds = data_dir / "builds"
    if not builds.is_dir():
        return []
    found = [b for b in builds.iterdir() if b.name not in exclude and (b / MANIFEST).is_file()]
    return sorted(found, key=lambda b: b.name, reverse=True)


def rollback(data_dir: Path) -> str:
    """Switch ``current`` back to the previous build (verified first); the build id now live.

    The two swap places, so a second rollback returns to where the first began.
    """
    previous = build_id(data_dir, _PREVIOUS)
    if previous is None or not (data_dir / "builds" / previous).is_dir():
        raise IndexMissingError(f"no previous build in {data_dir} to roll back to")
    target = data_dir / "builds" / previous
    verify_snapshot(target)
    switch_current(data_dir, target)  # the current build becomes the previous one, as after a build
    return previous


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the index at ``root``, or None if there is no finished index.

    A manifest that exists but cannot be parsed is damage, not absence: ``CorruptIndexError``.
    """
    path = root / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise corrupt(root, MANIFEST, f"cannot be read ({exc.strerror})") from exc
    try:
        manifest = json.loads(text)
    except ValueError:
        raise corrupt(root, MANIFEST, "is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise corrupt(root, MANIFEST, "is not a JSON object")
    return manifest
