"""Add a report to the corpus, or remove one, and rebuild: all or nothing.

An add extracts the file, stages the corpus it would make (the current
reports as links, the new report's text, page map, original and the new
``catalog.json``) in a scratch directory under ``data/``, and builds the
index from that stage. Only once the new snapshot is complete does it move
the new files into the corpus directory, replace ``catalog.json`` (one
rename) and let the build switch ``data/current``. Any failure before that
(bad input, a duplicate id, a failed build, a kill -9) leaves the corpus
directory, the catalog and the live index exactly as they were; the scratch
directory a killed add leaves is removed by the next one. The staged corpus
is byte-identical to the committed one, so its snapshot's fingerprint
matches and a later ``policyqa build`` is a no-op.

The build embeds only texts it has not embedded before (``CachedEmbedder``),
so adding one report embeds that report's passages and answer units only.
Adds and removes take ``data/.library.lock``, one at a time.

When MiniLM is adapted to the reports (``POLICYQA_ADAPT``), the new corpus
needs a newly trained model: the add serves the report with the bundled
MiniLM at once and leaves the training to its caller (``policyqa add``
adapts next, a server in the background: ``index.stages``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import CorpusError, ExtractionError, InvalidQueryError, NotFoundError
from core.settings import Settings
from core.types import BuildReport
from corpus import SCHEMES
from corpus.extract import Extracted, checked_size, extract
from corpus.library import CATALOG, NewEntry, catalog_bytes, catalog_entries, recognise_scheme, slug
from index.build import build_index
from index.embed import Embedder
from index.lock import BUILD_LOCK, hold_lock
from index.snapshots import clear_current

__all__ = ["Added", "add_document", "check_upload", "list_documents", "remove_document"]

_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
_STAGE_PREFIX = ".add-"


@dataclass(frozen=True, slots=True)
class Added:
    """What an add did: the catalog entry written and the build that serves it."""

    entry: dict[str, Any]
    build: BuildReport
    ocr: bool


def check_upload(path: Path, settings: Settings) -> None:
    """A one-line ``ExtractionError`` for a file that cannot be a report: missing, empty, too large, wrong type."""
    size = checked_size(path)
    if size > settings.max_upload_bytes:
        raise ExtractionError(
            f"{path.name}: {size:,} bytes is over the size limit of {settings.max_upload_bytes:,} "
            "(POLICYQA_MAX_UPLOAD_BYTES)"
        )


@contextmanager
def _library_lock(settings: Settings) -> Iterator[None]:
    with hold_lock(settings.data_dir / ".library.lock"):
        for stale in settings.data_dir.glob(f"{_STAGE_PREFIX}*"):  # left by a killed add
            shutil.rmtree(stale, ignore_errors=True)
        yield


def _check_id(doc_id: str, entries: list[dict[str, Any]], replace: bool) -> None:
    if not _ID.fullmatch(doc_id):
        raise InvalidQueryError(
            f"invalid id {doc_id!r}: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    if not replace and any(e.get("id") == doc_id for e in entries):
        raise CorpusError(f"a document with id {doc_id!r} already exists; add it with --replace to replace it")


def _stage(settings: Settings, entries: list[dict[str, Any]], files: dict[str, bytes | Path]) -> Path:
    """A scratch corpus: existing reports' text files as links, ``files`` written (bytes) or copied (paths)."""
    stage = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, dir=settings.data_dir))
    for entry in entries:
        for name in _files_of(entry):
            if name in files or not (settings.corpus_dir / name).exists():
                continue
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            (stage / name).symlink_to((settings.corpus_dir / name).resolve())
    for name, content in files.items():
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (stage / name).write_bytes(content)
        else:
            shutil.copyfile(content, stage / name)
    return stage


def _place(stage: Path, corpus_dir: Path, names: list[str]) -> None:
    """Move staged files into the corpus directory, each by a rename of a complete copy; catalog.json last."""
    for name in sorted(names, key=lambda n: n == CATALOG):
        dest = corpus_dir / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
        shutil.copyfile(stage / name, tmp)
        os.replace(tmp, dest)


def _files_of(entry: dict[str, Any]) -> list[str]:
    return [str(entry[k]) for k in ("file", "pages", "original") if entry.get(k)]


def _unlink(corpus_dir: Path, names: list[str]) -> None:
    for name in names:
        (corpus_dir / name).unlink(missing_ok=True)


def _commit(
    settings: Settings, stage: Path, entries: list[dict[str, Any]], doc_id: str, staged: list[str]
) -> Callable[[], None]:
    """The ``before_switch`` step: the staged files and catalog into the corpus, the old id's files out."""
    old = [n for e in entries if e.get("id") == doc_id for n in _files_of(e)]

    def commit() -> None:
        _place(stage, settings.corpus_dir, staged)
        _unlink(settings.corpus_dir, [n for n in old if n not in staged])

    return commit


def add_document(
    settings: Settings,
    path: Path,
    *,
    doc_id: str | None = None,
    title: str | None = None,
    publisher: str | None = None,
    date: str | None = None,
    scheme: str | None = None,
    replace: bool = False,
    embedder: Embedder | None = None,
    multilingual: Embedder | None = None,
    progress: bool = False,
) -> Added:
    """Extract ``path``, write its catalog entry and files, build; nothing changes unless all of it succeeds."""
    path = Path(path)
    if scheme is not None and scheme not in SCHEMES:
        raise InvalidQueryError(f"unknown scheme {scheme!r}; valid: {', '.join(sorted(SCHEMES))}")
    check_upload(path, settings)
    if doc_id is not None:  # a duplicate is reported before minutes of extraction
        _check_id(doc_id, catalog_entries(settings.corpus_dir), replace)
    extracted: Extracted = extract(path)
    title = title or extracted.title or path.stem.replace("_", " ").replace("-", " ")
    doc_id = doc_id or slug(title if (extracted.title or title != path.stem) else path.stem)
    entry = NewEntry.named(
        doc_id,
        path.suffix,
        title=title,
        publisher=publisher or extracted.publisher or "not stated",
        date=date or extracted.date or "undated",
        scheme=scheme or recognise_scheme(extracted.text),
        format=extracted.format,
    )
    with _library_lock(settings):
        entries = catalog_entries(settings.corpus_dir)
        _check_id(doc_id, entries, replace)
        kept = [e for e in entries if e.get("id") != doc_id]
        new_entries = [*kept, entry.as_json()]
        files: dict[str, bytes | Path] = {
            entry.text_file: extracted.text.encode("utf-8"),
            entry.pages_file: json.dumps([list(p) for p in extracted.pages]).encode("utf-8"),
            entry.original: path,
            CATALOG: catalog_bytes(new_entries),
        }
        stage = _stage(settings, kept, files)
        try:
            report = build_index(
                settings.model_copy(update={"corpus_dir": stage}),
                embedder,
                multilingual=multilingual,
                progress=progress,
                before_switch=_commit(settings, stage, entries, doc_id, list(files)),
                adapt_later=True,
            )
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return Added(entry.as_json(), report, extracted.ocr)


def remove_document(
    settings: Settings,
    doc_id: str,
    *,
    embedder: Embedder | None = None,
    multilingual: Embedder | None = None,
    progress: bool = False,
) -> BuildReport | None:
    """Take report ``doc_id`` out of the catalog, its files and the index (None: the library is now empty)."""
    with _library_lock(settings):
        entries = catalog_entries(settings.corpus_dir)
        if not any(e.get("id") == doc_id for e in entries):
            valid = ", ".join(str(e.get("id")) for e in entries) or "none, the library is empty"
            raise NotFoundError(f"no document {doc_id!r}; valid: {valid}")
        kept = [e for e in entries if e.get("id") != doc_id]
        gone = [n for e in entries if e.get("id") == doc_id for n in _files_of(e)]
        if not kept:
            # No index can be built from nothing: the catalog empties and data/current goes (the server says so).
            (settings.corpus_dir / f".{CATALOG}.tmp").write_bytes(catalog_bytes([]))
            os.replace(settings.corpus_dir / f".{CATALOG}.tmp", settings.corpus_dir / CATALOG)
            _unlink(settings.corpus_dir, gone)
            with hold_lock(settings.data_dir / BUILD_LOCK):
                clear_current(settings.data_dir)
            return None
        stage = _stage(settings, kept, {CATALOG: catalog_bytes(kept)})

        def commit() -> None:
            _place(stage, settings.corpus_dir, [CATALOG])
            _unlink(settings.corpus_dir, gone)

        try:
            return build_index(
                settings.model_copy(update={"corpus_dir": stage}),
                embedder,
                multilingual=multilingual,
                progress=progress,
                before_switch=commit,
                adapt_later=True,
            )
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def list_documents(settings: Settings) -> list[dict[str, Any]]:
    """The catalog's reports, each with ``loaded``: whether the live index serves it."""
    live: set[str] = set()
    documents = settings.index_dir / "documents.json"
    if documents.exists():
        try:
            live = {d["id"] for d in json.loads(documents.read_text(encoding="utf-8"))}
        except (OSError, ValueError, KeyError):
            live = set()
    return [{**e, "loaded": e.get("id") in live} for e in catalog_entries(settings.corpus_dir)]
