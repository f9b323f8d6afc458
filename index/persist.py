"""A snapshot's files: what a build writes and what loading reads back.

The format (``FORMAT_VERSION``): passages as JSON lines, the section forest as
flat rows, the documents, the FAISS dense index (and, from
``ann_min_passages`` passages on, a second one: an HNSW index of the
multilingual-e5 passage vectors, ``MULTILINGUAL_INDEX``), BM25's arrays, one ``.npy``
file per further array (answer units, their vectors, the multilingual-e5
vectors) so that each can be memory-mapped, the texts the spans index
(``index.texts``) and, last, the manifest with every file's size and sha256.

Checking the files and holding the loaded index are ``index.store``'s;
links, checksums and rollback are ``index.snapshots``'.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import IndexStoreError
from core.types import Document, Passage, PathElement, Section
from index.ann import FLAT, DenseSpec, build_dense
from index.lexical import PASSAGES
from index.snapshots import MANIFEST, checksums
from index.texts import write_texts
from index.timing import timed

__all__ = ["ARRAYS", "FORMAT_VERSION", "MULTILINGUAL_INDEX", "SnapshotFiles", "read_snapshot", "write_snapshot"]

# 2: sentence vectors; 3: multilingual-e5; 4: checksums, .npy arrays (mmap); 5: answer units; 6: path labels;
# 7: the texts the spans index, in the snapshot (index.texts); 8: the e5 HNSW index (multilingual.faiss) by size
FORMAT_VERSION = 8

MULTILINGUAL_INDEX = "multilingual.faiss"
"""The HNSW index of the e5 passage vectors, written from ``ann_min_passages`` passages on (as the
dense index's HNSW): below that the multilingual leg scans ``multilingual_passages.npy`` exactly."""

_BM25_DIR = "bm25"
# One .npy file per array (an .npz archive cannot be memory-mapped).
ARRAYS = {
    "sentence_rows": "sentence_rows.npy",  # (passage index, start, end, kind) of every answer unit
    "sentence_vectors": "sentence_vectors.npy",  # MiniLM vector of every sentence
    "multilingual_passages": "multilingual_passages.npy",  # e5 vector of every passage (the cross-lingual leg)
    "multilingual_sentences": "multilingual_sentences.npy",  # e5 vector of every sentence
    "unit_headers": "unit_headers.npy",  # a table row's header rows ("" for other units)
}


def _passage_to_json(p: Passage) -> dict[str, Any]:
    d = asdict(p)
    d["paths"] = [[asdict(el) for el in path] for path in p.paths]
    return d


class _Paths:
    """One ``PathElement`` tuple per distinct path read: the passages of a section share their paths.

    At 40,000 passages, making a fresh element for every step of every path was
    most of the time spent reading ``passages.jsonl``, and as many objects in memory.
    """

    def __init__(self) -> None:
        self._paths: dict[tuple[tuple[Any, ...], ...], tuple[PathElement, ...]] = {}

    def __call__(self, path: list[dict[str, Any]]) -> tuple[PathElement, ...]:
        key = tuple(tuple(el.values()) for el in path)
        found = self._paths.get(key)
        if found is None:
            found = self._paths[key] = tuple(PathElement(**el) for el in path)
        return found


def _passage_from_json(d: dict[str, Any], paths: _Paths | None = None) -> Passage:
    paths = paths or _Paths()
    d = dict(d)
    d["section_ids"] = tuple(d["section_ids"])
    d["paths"] = tuple(paths(path) for path in d["paths"])
    return Passage(**d)


def _section_to_json(s: Section, parent: str | None) -> dict[str, Any]:
    return {
        "id": s.id,
        "parent": parent,
        "document_id": s.document_id,
        "kind": s.kind,
        "number": s.number,
        "title": s.title,
        "path": [asdict(el) for el in s.path],
        "heading": list(s.heading) if s.heading else None,
        "body": [list(b) for b in s.body],
        "children": [c.id for c in s.children],
    }


def _sections_from_json(rows: list[dict[str, Any]], paths: _Paths | None = None) -> list[Section]:
    """Rebuild the section forest (roots first) from flat rows."""
    paths = paths or _Paths()
    by_id = {r["id"]: r for r in rows}
    built: dict[str, Section] = {}

    def build(sid: str) -> Section:
        if sid not in built:
            r = by_id[sid]
            built[sid] = Section(
                id=r["id"],
                document_id=r["document_id"],
                kind=r["kind"],
                number=r["number"],
                title=r["title"],
                path=paths(r["path"]),
                heading=tuple(r["heading"]) if r["heading"] else None,  # type: ignore[arg-type]
                body=tuple(tuple(b) for b in r["body"]),  # type: ignore[misc]
                children=tuple(build(c) for c in r["children"]),
            )
        return built[sid]

    return [build(r["id"]) for r in rows if r["parent"] is None]


def write_snapshot(
    target: Path,
    manifest: dict[str, Any],
    documents: list[Document],
    roots: list[Section],
    passages: list[Passage],
    vectors: np.ndarray,
    sentences: np.ndarray,
    sentence_vectors: np.ndarray,
    headers: list[str],
    multilingual: tuple[np.ndarray, np.ndarray],
    extra_files: tuple[Path, ...] = (),
    texts: dict[str, tuple[str, str]] | None = None,
    sources: dict[str, tuple[Path, ...]] | None = None,
    dense_spec: DenseSpec = FLAT,
    multilingual_spec: DenseSpec = FLAT,
    timings: dict[str, Any] | None = None,
) -> None:
    """Write a complete index into the new directory ``target``.

    ``dense_spec`` says which FAISS index holds the passage vectors (``index.ann``;
    the build chooses it by size) and is recorded in the manifest;
    ``multilingual_spec`` the same for the multilingual-e5 passage vectors,
    whose HNSW index is ``MULTILINGUAL_INDEX`` (none when flat: the leg
    scans ``multilingual_passages.npy``).

    ``extra_files`` (the query encoder exported for this build) are copied in
    and checksummed like the rest. ``texts`` maps each document id to (file
    name, the text its spans index), ``sources`` to further files of that
    document (``index.texts``). The manifest gets the build id (the
    directory's name) and every file's size and sha256. ``timings`` gets
    each part's wall and CPU seconds (``snapshot_*``, ``index.embed_steps.timed``).
    """
    import faiss

    try:
        target.mkdir(parents=True)
        with timed(timings, "snapshot_dense"):
            dense = build_dense(vectors, dense_spec)
            faiss.write_index(dense, str(target / "dense.faiss"))
        if multilingual_spec.kind != "flat":
            with timed(timings, "snapshot_multilingual"):
                e5 = build_dense(multilingual[0], multilingual_spec)
                faiss.write_index(e5, str(target / MULTILINGUAL_INDEX))
        arrays = {
            "sentence_rows": sentences,
            "sentence_vectors": sentence_vectors,
            "multilingual_passages": multilingual[0],
            "multilingual_sentences": multilingual[1],
            "unit_headers": np.array(headers, dtype=str),
        }
        with timed(timings, "snapshot_arrays"):
            for name, array in arrays.items():
                np.save(target / ARRAYS[name], np.ascontiguousarray(array))
        with timed(timings, "snapshot_bm25"):
            bm25 = PASSAGES.index(PASSAGES.tokenize([p.embed_text for p in passages]))
            bm25.save(str(target / _BM25_DIR), show_progress=False)
        with timed(timings, "snapshot_json"):
            _write_json(target, documents, roots, passages)
        with timed(timings, "snapshot_files"):
            for extra in extra_files:
                shutil.copyfile(extra, target / extra.name)
            document_files = write_texts(target, texts or {}, sources)
        # The manifest is written last: a directory without one is an unfinished build.
        manifest = {
            **manifest,
            "dense_index": dense_spec.as_dict(),
            "multilingual_index": multilingual_spec.as_dict(),
            "build_id": target.name,
            "document_files": document_files,
        }
        with timed(timings, "snapshot_checksums"):
            files = checksums(target)
        manifest["files"] = files
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except (OSError, RuntimeError, ValueError) as exc:
        raise IndexStoreError(f"cannot write index to {target}: {exc}") from exc


def _write_json(target: Path, documents: list[Document], roots: list[Section], passages: list[Passage]) -> None:
    """``passages.jsonl``, ``sections.json`` (the forest as flat rows) and ``documents.json``."""
    with (target / "passages.jsonl").open("w", encoding="utf-8") as fh:
        for p in passages:
            fh.write(json.dumps(_passage_to_json(p), ensure_ascii=False) + "\n")
    rows: list[dict[str, Any]] = []

    def flat(s: Section, parent: str | None) -> None:
        rows.append(_section_to_json(s, parent))
        for c in s.children:
            flat(c, s.id)

    for r in roots:
        flat(r, None)
    (target / "sections.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    (target / "documents.json").write_text(
        json.dumps([asdict(d) for d in documents], ensure_ascii=False, indent=1), encoding="utf-8"
    )


@dataclass(frozen=True)
class SnapshotFiles:
    """What ``read_snapshot`` read: vectors and the FAISS storage memory-mapped, the rest in memory."""

    documents: list[Document]
    roots: list[Section]
    passages: list[Passage]
    dense: Any
    bm25: Any
    arrays: dict[str, np.ndarray]
    multilingual_dense: Any = None


def read_snapshot(root: Path, manifest: dict[str, Any] | None = None) -> SnapshotFiles:
    """Read the snapshot at ``root``, whose checksums the caller has verified against ``manifest``.

    The e5 HNSW index is read when the manifest lists it (so checked it), never a stray file.

    ``IndexStoreError`` if a file cannot be read: the checksums matched, so
    that is a bug or a foreign file, not damage, and still ours to report.
    """
    import bm25s
    import faiss

    try:
        paths = _Paths()
        passages = [
            _passage_from_json(json.loads(line), paths)
            for line in (root / "passages.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        roots = _sections_from_json(json.loads((root / "sections.json").read_text(encoding="utf-8")), paths)
        documents = [
            Document(
                **{
                    **d,
                    "names": tuple(d.get("names", ())),
                    "area_names": tuple(map(tuple, d.get("area_names", ()))),
                    "pages": tuple(map(tuple, d.get("pages", ()))),
                }
            )
            for d in json.loads((root / "documents.json").read_text(encoding="utf-8"))
        ]
        # IO_FLAG_MMAP_IFC maps the vectors of a flat index and of an HNSW index's flat storage
        # (plain IO_FLAG_MMAP reads them into memory); an HNSW graph's links are read in.
        dense = faiss.read_index(str(root / "dense.faiss"), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        multilingual_dense = None
        if MULTILINGUAL_INDEX in ((manifest or {}).get("files") or {}):
            multilingual_dense = faiss.read_index(
                str(root / MULTILINGUAL_INDEX), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
            )
        bm25 = bm25s.BM25.load(str(root / _BM25_DIR), mmap=True, show_progress=False)
        arrays = {name: np.load(root / file, mmap_mode="r") for name, file in ARRAYS.items()}
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexStoreError(f"index at {root} is unreadable: {exc}") from exc
    return SnapshotFiles(documents, roots, passages, dense, bm25, arrays, multilingual_dense)
