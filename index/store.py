"""The persisted index: passages, sections, FAISS vectors, BM25 and a manifest.

A build writes a complete snapshot into its own directory under
``data/builds/`` and then switches the ``data/current`` symlink to it with
one atomic rename, so readers see either the old index or the new one,
never half of each. Loading reads files only: it never embeds or parses.

The manifest lists every other file of the snapshot with its size and
sha256, and loading checks them first (``verify_snapshot``): a truncated
FAISS file, a flipped byte or a garbled passage line is a
``CorruptIndexError`` naming the file, never a library error or a search
that silently ranks with damaged vectors. Vectors are stored as ``.npy``
files and the FAISS index is read with ``IO_FLAG_MMAP_IFC``, so they are
memory-mapped: several server workers share one copy in the page cache.

A snapshot stands on its own: it carries the exact texts its spans index
(``index.texts``), so a rollback never puts a span over another text.

Writing the links (``current``, ``previous``), verifying checksums and
rolling back are ``index.snapshots``'.

Memory-mapped files must not shrink under the process (touching a page past
the end of a truncated file is SIGBUS, which kills it), so the loaded index
keeps each mapped file open and ``StoredIndex.check_mapped`` compares their
sizes (``fstat``, microseconds) with the manifest's before a request uses
them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import weakref
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import IndexMissingError, IndexStoreError
from core.types import Document, Passage, PathElement, Section
from corpus.kinds import KINDS, discover_kind
from index.ann import (
    FLAT,
    LEXICAL_RESCORED,
    DenseSpec,
    build_dense,
    dense_kind,
    exact_scores,
    range_sample,
    search_dense,
)
from index.lexical import PASSAGES
from index.rows import ByPassage
from index.sentences import UNIT_KINDS, Unit
from index.snapshots import (
    MANIFEST,
    checksums,
    corrupt,
    read_manifest,
    verify_snapshot,
)
from index.texts import read_texts, write_texts

__all__ = ["FORMAT_VERSION", "StoredIndex", "load_index", "write_snapshot"]

# 2: sentence vectors; 3: multilingual-e5; 4: checksums, .npy arrays (mmap); 5: answer units; 6: path labels;
# 7: the texts the spans index, in the snapshot (index.texts)
FORMAT_VERSION = 7

_log = logging.getLogger("policyqa.index")

_BM25_DIR = "bm25"
# One .npy file per array (an .npz archive cannot be memory-mapped).
_ARRAYS = {
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


class StoredIndex:
    """A loaded snapshot: everything the retriever needs, in memory or memory-mapped."""

    def __init__(
        self,
        root: Path,
        manifest: dict[str, Any],
        documents: list[Document],
        roots: list[Section],
        passages: list[Passage],
        dense: Any,
        bm25: Any,
        sentences: np.ndarray,
        sentence_vectors: np.ndarray,
        multilingual: tuple[np.ndarray, np.ndarray],
        headers: list[str] | None = None,
        texts: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.manifest = manifest
        self.build_id: str = manifest.get("build_id") or root.name
        self.verify_seconds = 0.0  # how long checking the files' checksums took (set by load_index)
        # Each document's text as this snapshot's build parsed it: every span indexes into it.
        self.texts: dict[str, str] = texts if texts is not None else {}
        # Memory-mapped files held open: (name, fd, size the manifest says), for check_mapped.
        self._mapped: list[tuple[str, int, int]] = []
        self.documents = {d.id: d for d in documents}
        self.roots = roots
        self.sections: dict[str, Section] = {}
        self.parents: dict[str, str | None] = {}
        for r in roots:
            self._register(r, None)
        self.passages = passages
        self.passage_index = {p.id: i for i, p in enumerate(passages)}
        self.dense = dense
        self._range_sample = range_sample(len(passages))
        self.bm25 = bm25
        # One row per answer unit (sentence, list item, table row) of every passage:
        # (passage index, start, end, kind as an index of UNIT_KINDS), passages in order;
        # each unit's vector; and a table row's header rows ("" for the others).
        self.sentences = sentences
        self.sentence_vectors = sentence_vectors
        self.headers = headers if headers is not None else [""] * len(sentences)
        # multilingual-e5 vectors: one row per passage, and one per sentence (rows as ``sentences``).
        self.multilingual_passages, self.multilingual_sentences = multilingual
        # Which passages each section owns directly, in document order.
        self.section_passages: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            for sid in p.section_ids:
                self.section_passages.setdefault(sid, []).append(i)

    def hold_mapped(self, names: list[str]) -> None:
        """Keep ``names`` (files of this snapshot that are memory-mapped) open for ``check_mapped``."""
        files = self.manifest.get("files") or {}
        for name in names:
            fd = os.open(self.root / name, os.O_RDONLY | os.O_CLOEXEC)
            self._mapped.append((name, fd, int(files[name]["size"])))
        weakref.finalize(self, _close_all, [fd for _, fd, _ in self._mapped])

    def check_mapped(self) -> None:
        """``CorruptIndexError`` if a memory-mapped file is no longer the size its build wrote.

        One ``fstat`` per mapped file (a few microseconds in all), run before
        a request reads the vectors: a truncated file is reported instead of
        killing the process with SIGBUS when a page past its new end is read.
        """
        for name, fd, size in self._mapped:
            now = os.fstat(fd).st_size
            if now != size:
                raise corrupt(self.root, name, f"is {now} bytes, the build wrote {size}")

    def _register(self, s: Section, parent: str | None) -> None:
        self.sections[s.id] = s
        if s.number is not None and s.kind not in KINDS:
            # A kind the generic scheme found in a report ("Article"): its vocabulary, from its label.
            discover_kind(s.path[-1].label.rsplit(" ", 1)[0])
        self.parents[s.id] = parent
        for c in s.children:
            self._register(c, s.id)

    def sentence_vectors_by_passage(self, multilingual: bool = False) -> ByPassage[np.ndarray]:
        """Each passage's sentence vectors (rows in sentence order), keyed by passage id.

        ``multilingual`` gives the multilingual-e5 vectors of the same sentences.
        A mapping that slices on access (``index.rows``).
        """
        vectors = (self.multilingual_sentences if multilingual else self.sentence_vectors).view(np.ndarray)
        return ByPassage([p.id for p in self.passages], self.sentences[:, 0], lambda a, b: vectors[a:b])

    def units_by_passage(self) -> ByPassage[list[Unit]]:
        """Each passage's answer units (rows as ``sentence_vectors_by_passage``), keyed by passage id."""
        rows, headers = self.sentences, self.headers

        def units(a: int, b: int) -> list[Unit]:
            return [
                Unit(start, end, UNIT_KINDS[kind], header)
                for (_, start, end, kind), header in zip(rows[a:b].tolist(), headers[a:b], strict=True)
            ]

        return ByPassage([p.id for p in self.passages], rows[:, 0], units)

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no term matches)."""
        tokens = PASSAGES.tokenize([query])[0]
        if not tokens:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def multilingual_scores(self, vector: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Cosine of every passage's multilingual-e5 vector to ``vector``; -inf outside ``allowed``.

        A plain matrix product: a few thousand 384-d rows take well under a millisecond.
        """
        out = (self.multilingual_passages @ vector.astype(np.float32)).astype(np.float32)
        if allowed is not None:
            out[~allowed] = -np.inf
        return out

    @property
    def approximate(self) -> bool:
        """Whether the dense index is approximate (HNSW: candidates only, ``index.ann``)."""
        return dense_kind(self.dense) == "hnsw"

    def dense_scores(
        self,
        vector: np.ndarray,
        allowed: np.ndarray | None = None,
        k: int | None = None,
        also: np.ndarray | None = None,
    ) -> np.ndarray:
        """Cosine similarity of every passage to ``vector``; -inf outside ``allowed``.

        The filter is applied inside FAISS (an id selector) so a filtered
        search ranks only the allowed passages. An approximate (HNSW) index
        scores its best candidates, plus exactly: a fixed sample of passages
        (its lowest score stands for the collection's, which convex fusion
        normalises by) and the best ``LEXICAL_RESCORED`` passages of ``also``
        (the lexical leg's scores); the rest are -inf (``index.ann``). A flat
        index scores every passage and ignores ``also``.
        """
        n = len(self.passages)
        dist, idx = search_dense(self.dense, vector, allowed, k)
        out = np.full(n, -np.inf, dtype=np.float32)
        if dense_kind(self.dense) == "hnsw" and k is None:
            extra = [self._range_sample]
            if also is not None:
                best = np.argpartition(-also, min(LEXICAL_RESCORED, n) - 1)[:LEXICAL_RESCORED]
                extra.append(best[np.isfinite(also[best])])
            rows = np.unique(np.concatenate(extra))
            if allowed is not None:
                rows = rows[allowed[rows]]
            out[rows] = exact_scores(self.dense, vector, rows)
        out[idx] = dist
        return out


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
) -> None:
    """Write a complete index into the new directory ``target``.

    ``dense_spec`` says which FAISS index holds the passage vectors (``index.ann``;
    the build chooses it by size) and is recorded in the manifest.

    ``extra_files`` (the query encoder exported for this build) are copied in
    and checksummed like the rest. ``texts`` maps each document id to (file
    name, the text its spans index), ``sources`` to further files of that
    document (``index.texts``). The manifest gets the build id (the
    directory's name) and every file's size and sha256.
    """
    import faiss

    try:
        target.mkdir(parents=True)
        dense = build_dense(vectors, dense_spec)
        faiss.write_index(dense, str(target / "dense.faiss"))
        arrays = {
            "sentence_rows": sentences,
            "sentence_vectors": sentence_vectors,
            "multilingual_passages": multilingual[0],
            "multilingual_sentences": multilingual[1],
            "unit_headers": np.array(headers, dtype=str),
        }
        for name, array in arrays.items():
            np.save(target / _ARRAYS[name], np.ascontiguousarray(array))
        bm25 = PASSAGES.index(PASSAGES.tokenize([p.embed_text for p in passages]))
        bm25.save(str(target / _BM25_DIR), show_progress=False)
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
        for extra in extra_files:
            shutil.copyfile(extra, target / extra.name)
        document_files = write_texts(target, texts or {}, sources)
        # The manifest is written last: a directory without one is an unfinished build.
        manifest = {
            **manifest,
            "dense_index": dense_spec.as_dict(),
            "build_id": target.name,
            "document_files": document_files,
        }
        manifest["files"] = checksums(target)
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except (OSError, RuntimeError, ValueError) as exc:
        raise IndexStoreError(f"cannot write index to {target}: {exc}") from exc


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def load_index(root: Path) -> StoredIndex:
    """Verify the index at ``root`` (normally ``data/current``), then load it.

    Vectors and the FAISS index are memory-mapped, read-only; the rest
    (passages, sections, BM25's small arrays) is read into memory.
    """
    import bm25s
    import faiss

    root = root.resolve()  # one snapshot, even if the link is switched meanwhile
    manifest = read_manifest(root)
    if manifest is None:
        raise IndexMissingError(f"no index at {root}; run `policyqa build` first")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMissingError(
            f"index at {root} has format {manifest.get('format')}, this version reads {FORMAT_VERSION}; "
            "run `policyqa build`"
        )
    verify_seconds = verify_snapshot(root, manifest)
    texts = read_texts(root, manifest)
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
        bm25 = bm25s.BM25.load(str(root / _BM25_DIR), mmap=True, show_progress=False)
        arrays = {name: np.load(root / file, mmap_mode="r") for name, file in _ARRAYS.items()}
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        # The checksums matched, so this is a bug or a foreign file, not damage: still ours to report.
        raise IndexStoreError(f"index at {root} is unreadable: {exc}") from exc
    multilingual = (arrays["multilingual_passages"], arrays["multilingual_sentences"])
    if dense.ntotal != len(passages) or len(multilingual[0]) != len(passages):
        raise IndexStoreError(f"index at {root} is inconsistent: {dense.ntotal} vectors, {len(passages)} passages")
    index = StoredIndex(
        root,
        manifest,
        documents,
        roots,
        passages,
        dense,
        bm25,
        arrays["sentence_rows"],
        arrays["sentence_vectors"],
        multilingual,
        [str(h) for h in arrays["unit_headers"]],
        texts,
    )
    missing = sorted(set(index.documents) - set(texts))
    if missing:
        raise corrupt(root, MANIFEST, f"lists no text for {', '.join(missing)}")
    try:
        index.hold_mapped([name for name in manifest["files"] if name.endswith((".npy", ".faiss"))])
    except OSError as exc:
        raise corrupt(root, "a vector file", f"cannot be opened ({exc.strerror})") from exc
    index.verify_seconds = verify_seconds
    _log.info("verified %d index files in %.1f ms", len(manifest["files"]), verify_seconds * 1000)
    return index
