"""The identity of the project's own code: a digest of the modules whose output a build keeps.

A change to the parsing, chunking or embedding code makes the index stale,
and a change to the pair builder or trainer makes the adapted model stale;
each names the packages and modules it depends on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from core.settings import PROJECT_ROOT

__all__ = ["code_hash"]


def code_hash(names: Iterable[str]) -> str:
    """sha256 over the project's ``names`` (packages or single modules): each file's path and bytes, in order."""
    h = hashlib.sha256()
    for name in names:
        path = PROJECT_ROOT / name
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(f.relative_to(PROJECT_ROOT).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()
