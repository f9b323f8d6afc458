"""The snapshot's own copy of the texts its spans index into, by document id.

A citation is a span (``char_start:char_end``) into one report's text. If
the server read that text from the corpus directory, a rollback to an older
build, or a report edited, added or removed since, would put the old spans
over another text: a wrong citation, which is worse than none. So every
snapshot carries the exact texts its build parsed, under
``texts/<document id>/``, checksummed in the manifest like every other file,
and everything that serves a text (search, ``/sections``, the reading view,
MCP ``fetch``, chat) reads it from the loaded snapshot only.

The store is generic: a document may own several files (the text the spans
index into, and later the original PDF it was extracted from); the manifest's
``document_files`` names them, and ``text`` says which one the spans index.
The text is written from the very string the build parsed (not copied from
the corpus file, which could change meanwhile), so its bytes are the ones
the spans were computed on. Other files are copied, not hard-linked: an
editor that rewrites a corpus file in place would otherwise change a
snapshot under its checksum.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.errors import CorruptIndexError

__all__ = ["TEXTS_DIR", "read_texts", "write_texts"]

TEXTS_DIR = "texts"

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _folder(document_id: str) -> str:
    if not _SAFE.fullmatch(document_id) or ".." in document_id:
        raise ValueError(f"document id {document_id!r} cannot name a folder")
    return f"{TEXTS_DIR}/{document_id}"


def write_texts(
    target: Path,
    texts: Mapping[str, tuple[str, str]],
    sources: Mapping[str, Sequence[Path]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Write each document's files under ``target/texts/<id>/``; the manifest's ``document_files``.

    ``texts`` maps a document id to (file name, the text its spans index);
    ``sources`` (optional) to further files of that document, copied as they are.
    """
    out: dict[str, dict[str, Any]] = {}
    for document_id, (name, text) in texts.items():
        folder = _folder(document_id)
        (target / folder).mkdir(parents=True, exist_ok=True)
        rel = f"{folder}/{Path(name).name}"
        # newline="" writes the string as is: \r\n stays \r\n, so offsets match the bytes read back.
        with (target / rel).open("w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        files = [rel]
        for source in (sources or {}).get(document_id, ()):
            copy = f"{folder}/{source.name}"
            if copy not in files:
                shutil.copyfile(source, target / copy)
                files.append(copy)
        out[document_id] = {"text": rel, "files": files}
    return out


def read_texts(root: Path, manifest: Mapping[str, Any]) -> dict[str, str]:
    """Every document's text (the one its spans index), read from the snapshot at ``root``."""
    files: Mapping[str, Mapping[str, Any]] = manifest.get("document_files") or {}
    out: dict[str, str] = {}
    for document_id, entry in files.items():
        try:
            with (root / entry["text"]).open(encoding="utf-8", newline="") as fh:
                out[document_id] = fh.read()
        except (OSError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise CorruptIndexError(
                f"index file {root / str(entry)} cannot be read ({exc}); run `policyqa build` to rebuild the index"
            ) from exc
    return out
