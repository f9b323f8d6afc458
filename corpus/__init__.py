"""Corpus stage: the catalog of reports and their section trees.

``load_catalog`` reads ``catalog.json``; ``parse_document`` turns one report
into a :class:`~core.types.ParsedDocument` with its real section structure,
using the numbering scheme the catalog names for it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from core.errors import CorpusError, NotFoundError
from core.types import Document, ParsedDocument
from corpus._schemes import SCHEMES, get_parser
from corpus._tree import freeze
from corpus.library import read_page_map

__all__ = [
    "CORPUS_DIR",
    "SCHEMES",
    "corpus_hash",
    "load_catalog",
    "load_corpus",
    "parse_document",
    "read_text",
]

CORPUS_DIR = Path(__file__).resolve().parent
"""Where the bundled reports and ``catalog.json`` live."""

_REQUIRED = ("id", "title", "short_title", "publisher", "date", "country", "kind", "file", "scheme")


def load_catalog(corpus_dir: Path = CORPUS_DIR) -> tuple[Document, ...]:
    """Read and validate ``catalog.json``: every field present, ids unique, files exist."""
    path = corpus_dir / "catalog.json"
    if not path.exists():
        return ()  # an empty library: a corpus directory reports are still to be added to
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorpusError(f"cannot read catalog {path}: {exc}") from exc
    docs: list[Document] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        missing = [k for k in _REQUIRED if not entry.get(k)]
        if missing:
            raise CorpusError(f"catalog entry {i} lacks {', '.join(missing)}")
        if entry["id"] in seen:
            raise CorpusError(f"catalog id {entry['id']!r} is listed twice")
        if entry["scheme"] not in SCHEMES:
            raise CorpusError(
                f"catalog entry {entry['id']!r}: unknown scheme {entry['scheme']!r}; "
                f"valid: {', '.join(sorted(SCHEMES))}"
            )
        if not (corpus_dir / entry["file"]).is_file():
            raise CorpusError(f"catalog entry {entry['id']!r}: no file {entry['file']}")
        seen.add(entry["id"])
        docs.append(
            Document(
                **{k: str(entry[k]) for k in _REQUIRED},
                names=_names(entry.get("names", {})),
                area_names=tuple(
                    (title, str(name))
                    for by_title in entry.get("area_names", {}).values()
                    for title, name in by_title.items()
                ),
                pages=read_page_map(corpus_dir, entry),
                original=entry.get("original") or None,
            )
        )
    return tuple(docs)


def _names(by_language: dict[str, list[str]]) -> tuple[str, ...]:
    """The report's names in every language, once each ({"en": [...], "es": [...]})."""
    return tuple(dict.fromkeys(str(n) for names in by_language.values() for n in names))


def read_text(document: Document, corpus_dir: Path = CORPUS_DIR) -> str:
    """The report's text exactly as stored; spans index into this string."""
    path = corpus_dir / document.file
    try:
        # newline="" keeps \r\n as is, so character offsets match the file.
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc}") from exc


def parse_document(document: Document, corpus_dir: Path = CORPUS_DIR) -> ParsedDocument:
    """Parse one report into its section tree."""
    text = read_text(document, corpus_dir)
    nodes = get_parser(document.scheme)(text, document)
    return ParsedDocument(document, text, freeze(document.id, nodes))


def load_corpus(corpus_dir: Path = CORPUS_DIR, only: str | None = None) -> tuple[ParsedDocument, ...]:
    """Parse every report of the catalog (or just the one with id ``only``)."""
    docs = load_catalog(corpus_dir)
    if only is not None:
        docs = tuple(d for d in docs if d.id == only)
        if not docs:
            raise NotFoundError(f"no document {only!r}; valid: {', '.join(d.id for d in load_catalog(corpus_dir))}")
    return tuple(parse_document(d, corpus_dir) for d in docs)


def corpus_hash(corpus_dir: Path = CORPUS_DIR) -> str:
    """A digest of the catalog and every report file: changes when any of them does."""
    h = hashlib.sha256()
    catalog = corpus_dir / "catalog.json"
    h.update(catalog.read_bytes() if catalog.exists() else b"")
    for d in load_catalog(corpus_dir):
        h.update(d.file.encode())
        h.update((corpus_dir / d.file).read_bytes())
        h.update(repr(d.pages).encode())
    return h.hexdigest()
