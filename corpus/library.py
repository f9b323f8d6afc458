"""The corpus directory as a library staff add reports to: catalog entries, file names, scheme choice.

Pure decisions and file layout, no index: ``index.add`` runs the workflow
(extract, stage, build, commit). An added report keeps three files in the
corpus directory, named by its id:

- ``originals/ID.pdf`` (or ``.docx``, ``.html``...): the file as published,
  served at ``GET /documents/{id}/file``;
- ``ID.txt``: the extracted text, the verbatim source citation spans index;
- ``ID.pages.json``: its page map, ``[[start, end), ...]`` per PDF page
  (``[]`` for formats without pages).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import CorpusError

__all__ = [
    "CATALOG",
    "ORIGINALS",
    "NewEntry",
    "catalog_bytes",
    "catalog_entries",
    "read_page_map",
    "recognise_scheme",
    "short_title",
    "slug",
]

CATALOG = "catalog.json"
ORIGINALS = "originals"

_SLUG_DROP = re.compile(r"[^a-z0-9]+")
_SLUG_MAX = 60


def slug(text: str) -> str:
    """A document id from a title or file name: lowercase ASCII words joined by ``-``, at most 60 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = _SLUG_DROP.sub("-", ascii_text).strip("-")
    if len(words) > _SLUG_MAX:
        words = words[:_SLUG_MAX].rsplit("-", 1)[0]
    return words or "report"


# What tells the bundled reports' numberings apart (counted over corpus/*.txt): the MEM evaluation names the
# mechanism and numbers dozens of priority actions; HONLAC names its meeting of Heads of National Drug Law
# Enforcement Agencies; the 1998 Binational Strategy numbers "Alliance Point"s (36 in the bundled text, none
# elsewhere). MEM is tested first: its text mentions HONLEA meetings too.
_SIGNS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("mem", re.compile(r"(?i)multilateral evaluation mechanism|mecanismo de evaluaci[oó]n multilateral"), 1),
    ("mem", re.compile(r"(?i)\bpriority action\b|\bacci[oó]n prioritaria\b"), 3),
    ("honlac", re.compile(r"(?i)\bHONL(?:EA|AC)\b|heads of national drug law enforcement"), 2),
    ("binational", re.compile(r"(?i)\balliance point\b|\bpunto de alianza\b"), 3),
)


def recognise_scheme(text: str) -> str:
    """The numbering scheme a report's text shows (``mem``, ``honlac``, ``binational``), else ``generic``."""
    mem = [len(p.findall(text)) >= least for name, p, least in _SIGNS if name == "mem"]
    if all(mem):
        return "mem"
    for name, pattern, least in _SIGNS:
        if name != "mem" and len(pattern.findall(text)) >= least:
            return name
    return "generic"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A catalog entry for an added report, and where its three files go (relative to the corpus directory)."""

    id: str
    title: str
    publisher: str
    date: str
    scheme: str
    format: str
    original: str  # originals/ID.ext
    text_file: str  # ID.txt
    pages_file: str  # ID.pages.json

    @classmethod
    def named(cls, doc_id: str, suffix: str, **fields: str) -> NewEntry:
        return cls(
            id=doc_id,
            original=f"{ORIGINALS}/{doc_id}{suffix.lower()}",
            text_file=f"{doc_id}.txt",
            pages_file=f"{doc_id}.pages.json",
            **fields,
        )

    def as_json(self) -> dict[str, Any]:
        """The ``catalog.json`` entry: the fields ``corpus.load_catalog`` requires plus the added files."""
        return {
            "id": self.id,
            "title": self.title,
            "short_title": short_title(self.title),
            "publisher": self.publisher,
            "date": self.date,
            "country": "not stated",
            "kind": "report",
            "file": self.text_file,
            "scheme": self.scheme,
            "format": self.format,
            "original": self.original,
            "pages": self.pages_file,
        }


def short_title(title: str, most: int = 60) -> str:
    """The title as a citation label starts: whole if short, else cut at a word (or at a colon or bracket) + "…"."""
    if len(title) <= most:
        return title
    cut = title[: most - 1]
    for mark in (":", ",", " ("):
        if (at := cut.find(mark)) >= 20:
            return cut[:at].rstrip()
    return cut.rsplit(" ", 1)[0].rstrip(",;:") + "…"


def catalog_entries(corpus_dir: Path) -> list[dict[str, Any]]:
    """The raw entries of ``catalog.json``; ``[]`` when the directory has none yet (an empty library)."""
    path = corpus_dir / CATALOG
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorpusError(f"cannot read catalog {path}: {exc}") from exc
    if not isinstance(entries, list):
        raise CorpusError(f"catalog {path} is not a JSON list")
    return entries


def catalog_bytes(entries: list[dict[str, Any]]) -> bytes:
    """``catalog.json`` as written: indented, UTF-8, ending in a newline."""
    return (json.dumps(entries, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def read_page_map(corpus_dir: Path, entry: dict[str, Any]) -> tuple[tuple[int, int], ...]:
    """An added report's page map (``()`` for a bundled text report or a format without pages)."""
    name = entry.get("pages")
    if not name:
        return ()
    try:
        return tuple((int(s), int(e)) for s, e in json.loads((corpus_dir / name).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise CorpusError(f"cannot read page map {name}: {exc}") from exc
