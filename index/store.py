"""The loaded index: a snapshot's passages, sections, FAISS vectors and BM25, checked and held.

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

The files' format, written and read, is ``index.persist``'s; writing the
links (``current``, ``previous``), verifying checksums and rolling back are
``index.snapshots``'.

Memory-mapped files must not shrink under the process (touching a page past
the end of a truncated file is SIGBUS, which kills it), so the loaded index
keeps each mapped file open and ``StoredIndex.check_mapped`` compares their
sizes (``fstat``, microseconds) with the manifest's before a request uses
them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import IndexMissingError, IndexStoreError
from core.types import Document, Passage, Section
from corpus.kinds import KINDS, discover_kind
from index.ann import candidate_scores, dense_kind, range_sample
from index.lexical import PASSAGES
from index.persist import FORMAT_VERSION, read_snapshot
from index.rows import ByPassage
from index.sentences import UNIT_KINDS, Unit
from index.snapshots import MANIFEST, corrupt, read_manifest, verify_snapshot
from index.texts import read_texts

__all__ = ["StoredIndex", "load_index"]

_log = logging.getLogger("policyqa.index")


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
        multilingual_dense: Any = None,
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
        self._last_bm25: tuple[str, np.ndarray] | None = None  # the last query's scores (bm25_scores)
        # One row per answer unit (sentence, list item, table row) of every passage:
        # (passage index, start, end, kind as an index of UNIT_KINDS), passages in order;
        # each unit's vector; and a table row's header rows ("" for the others).
        self.sentences = sentences
        self.sentence_vectors = sentence_vectors
        self.headers = headers if headers is not None else [""] * len(sentences)
        # multilingual-e5 vectors: one row per passage, and one per sentence (rows as ``sentences``).
        self.multilingual_passages, self.multilingual_sentences = multilingual
        # An HNSW index of the e5 passage vectors from ``ann_min_passages`` passages on (index.ann);
        # None below, where the leg scans ``multilingual_passages`` exactly.
        self.multilingual_dense = multilingual_dense
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
        """BM25 score of every passage for ``query`` (zeros when no term matches), read-only.

        The last query's scores are kept: at scale the lexical leg and an
        approximate vector leg (its extra candidates) both ask for the same
        text in one search, and scoring 42,300 passages twice cost 1.7 ms.
        """
        last = self._last_bm25
        if last is not None and last[0] == query:
            return last[1]
        tokens = PASSAGES.tokenize([query])[0]
        if tokens:
            scores = np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)
        else:
            scores = np.zeros(len(self.passages), dtype=np.float32)
        scores.flags.writeable = False
        self._last_bm25 = (query, scores)  # one tuple, swapped whole: safe between request threads
        return scores

    def multilingual_scores(
        self, vector: np.ndarray, allowed: np.ndarray | None = None, also: np.ndarray | None = None
    ) -> np.ndarray:
        """Cosine of every passage's multilingual-e5 vector to ``vector``; -inf outside ``allowed``.

        Below ``ann_min_passages`` a plain matrix product over every passage
        (a few thousand 384-d rows take well under a millisecond). With an
        e5 HNSW index, its candidates plus the exact scores of the English
        leg's extra passages (``index.ann.candidate_scores``; ``also`` is the
        lexical leg's scores), the rest -inf.
        """
        if self.multilingual_dense is not None:
            return candidate_scores(self.multilingual_dense, vector, allowed, also=also, sample=self._range_sample)
        out = (self.multilingual_passages @ vector.astype(np.float32)).astype(np.float32)
        if allowed is not None:
            out[~allowed] = -np.inf
        return out

    @property
    def approximate(self) -> bool:
        """Whether the dense index is approximate (HNSW: candidates only, ``index.ann``)."""
        return dense_kind(self.dense) == "hnsw"

    @property
    def multilingual_approximate(self) -> bool:
        """Whether the multilingual-e5 leg scores an HNSW index's candidates, not every passage."""
        return self.multilingual_dense is not None and dense_kind(self.multilingual_dense) == "hnsw"

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
        scores its candidates and a few passages more exactly
        (``index.ann.candidate_scores``: a fixed sample, and the best of
        ``also``, the lexical leg's scores); a flat index scores every
        passage and ignores ``also``.
        """
        return candidate_scores(self.dense, vector, allowed, k, also, self._range_sample)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def load_index(root: Path) -> StoredIndex:
    """Verify the index at ``root`` (normally ``data/current``), then load it.

    Vectors and the FAISS index are memory-mapped, read-only; the rest
    (passages, sections, BM25's small arrays) is read into memory.
    """
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
    files = read_snapshot(root, manifest)
    passages, arrays, dense = files.passages, files.arrays, files.dense
    multilingual = (arrays["multilingual_passages"], arrays["multilingual_sentences"])
    sizes = {dense.ntotal, len(multilingual[0])}
    if files.multilingual_dense is not None:
        sizes.add(files.multilingual_dense.ntotal)
    if sizes != {len(passages)}:
        raise IndexStoreError(f"index at {root} is inconsistent: {dense.ntotal} vectors, {len(passages)} passages")
    index = StoredIndex(
        root,
        manifest,
        files.documents,
        files.roots,
        passages,
        dense,
        files.bm25,
        arrays["sentence_rows"],
        arrays["sentence_vectors"],
        multilingual,
        [str(h) for h in arrays["unit_headers"]],
        texts,
        files.multilingual_dense,
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
