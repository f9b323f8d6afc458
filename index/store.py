"""The persisted index: passages, sections, FAISS vectors, BM25 and a manifest.

A build writes a complete snapshot into its own directory under
``data/builds/`` and then switches the ``data/current`` symlink to it with
one atomic rename, so readers see either the old index or the new one,
never half of each. Loading reads files only: it never embeds or parses.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from index.sentences import UNIT_KINDS, Unit
from qa.errors import IndexMissingError, IndexStoreError
from qa.types import Document, Passage, PathElement, Section

__all__ = ["FORMAT_VERSION", "StoredIndex", "load_index", "read_manifest", "switch_current", "write_snapshot"]

FORMAT_VERSION = 4  # 2: sentence vectors; 3: multilingual-e5 vectors; 4: answer units (kind, row header)

_BM25_DIR = "bm25"
_MULTILINGUAL = "multilingual.npz"  # e5 vectors of every passage and sentence (the cross-lingual leg)
_STOPWORDS = "en"


def _tokenize(texts: list[str]):  # type: ignore[no-untyped-def]
    import bm25s
    import Stemmer

    return bm25s.tokenize(
        texts, stopwords=_STOPWORDS, stemmer=Stemmer.Stemmer("english"), show_progress=False, return_ids=False
    )


def _passage_to_json(p: Passage) -> dict[str, Any]:
    d = asdict(p)
    d["paths"] = [[asdict(el) for el in path] for path in p.paths]
    return d


def _passage_from_json(d: dict[str, Any]) -> Passage:
    d = dict(d)
    d["section_ids"] = tuple(d["section_ids"])
    d["paths"] = tuple(tuple(PathElement(**el) for el in path) for path in d["paths"])
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


def _sections_from_json(rows: list[dict[str, Any]]) -> list[Section]:
    """Rebuild the section forest (roots first) from flat rows."""
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
                path=tuple(PathElement(**el) for el in r["path"]),
                heading=tuple(r["heading"]) if r["heading"] else None,  # type: ignore[arg-type]
                body=tuple(tuple(b) for b in r["body"]),  # type: ignore[misc]
                children=tuple(build(c) for c in r["children"]),
            )
        return built[sid]

    return [build(r["id"]) for r in rows if r["parent"] is None]


class StoredIndex:
    """A loaded snapshot: everything the retriever needs, in memory."""

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
    ) -> None:
        self.root = root
        self.manifest = manifest
        self.documents = {d.id: d for d in documents}
        self.roots = roots
        self.sections: dict[str, Section] = {}
        self.parents: dict[str, str | None] = {}
        for r in roots:
            self._register(r, None)
        self.passages = passages
        self.passage_index = {p.id: i for i, p in enumerate(passages)}
        self.dense = dense
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

    def _register(self, s: Section, parent: str | None) -> None:
        self.sections[s.id] = s
        self.parents[s.id] = parent
        for c in s.children:
            self._register(c, s.id)

    def sentence_vectors_by_passage(self, multilingual: bool = False) -> dict[str, np.ndarray]:
        """Each passage's sentence vectors (rows in sentence order), keyed by passage id.

        ``multilingual`` gives the multilingual-e5 vectors of the same sentences.
        """
        out: dict[str, np.ndarray] = {}
        if len(self.sentences) == 0:
            return out
        vectors = self.multilingual_sentences if multilingual else self.sentence_vectors
        bounds = np.flatnonzero(np.diff(self.sentences[:, 0])) + 1
        for rows, block in zip(
            np.split(np.arange(len(self.sentences)), bounds), np.split(vectors, bounds), strict=True
        ):
            out[self.passages[int(self.sentences[rows[0], 0])].id] = block
        return out

    def units_by_passage(self) -> dict[str, list[Unit]]:
        """Each passage's answer units (rows as ``sentence_vectors_by_passage``), keyed by passage id."""
        out: dict[str, list[Unit]] = {}
        for (i, start, end, kind), header in zip(self.sentences.tolist(), self.headers, strict=True):
            out.setdefault(self.passages[i].id, []).append(Unit(start, end, UNIT_KINDS[kind], header))
        return out

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no term matches)."""
        tokens = _tokenize([query])[0]
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

    def dense_scores(self, vector: np.ndarray, allowed: np.ndarray | None = None, k: int | None = None) -> np.ndarray:
        """Cosine similarity of every passage to ``vector``; -inf outside ``allowed``.

        The filter is applied inside FAISS (an id selector) so a filtered
        search ranks only the allowed passages.
        """
        import faiss

        n = len(self.passages)
        k = n if k is None else min(k, n)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            if len(ids) == 0:
                return np.full(n, -np.inf, dtype=np.float32)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
            k = min(k, len(ids))
        dist, idx = self.dense.search(vector.reshape(1, -1).astype(np.float32), k, params=params)
        out = np.full(n, -np.inf, dtype=np.float32)
        valid = idx[0] >= 0
        out[idx[0][valid]] = dist[0][valid]
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
) -> None:
    """Write a complete index into the new directory ``target``."""
    import bm25s
    import faiss

    try:
        target.mkdir(parents=True)
        dense = faiss.IndexFlatIP(vectors.shape[1])  # exact cosine on unit vectors: the corpus is small
        dense.add(vectors)
        faiss.write_index(dense, str(target / "dense.faiss"))
        np.savez(
            target / "sentences.npz", rows=sentences, vectors=sentence_vectors, headers=np.array(headers, dtype=str)
        )
        np.savez(target / _MULTILINGUAL, passages=multilingual[0], sentences=multilingual[1])
        bm25 = bm25s.BM25()
        bm25.index(_tokenize([p.embed_text for p in passages]), show_progress=False)
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
        # The manifest is written last: a directory without one is an unfinished build.
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except (OSError, RuntimeError, ValueError) as exc:
        raise IndexStoreError(f"cannot write index to {target}: {exc}") from exc


def switch_current(data_dir: Path, target: Path) -> None:
    """Point ``data_dir/current`` at ``target`` atomically and prune older builds."""
    link = data_dir / "current"
    tmp = data_dir / f".current-{target.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target.relative_to(data_dir))
    tmp.replace(link)  # rename(2) over the old link is atomic
    for old in (data_dir / "builds").iterdir():
        if old != target:
            shutil.rmtree(old, ignore_errors=True)


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the index at ``root``, or None if there is no finished index."""
    try:
        return json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_index(root: Path) -> StoredIndex:
    """Load the index at ``root`` (normally ``data/current``) into memory."""
    import bm25s
    import faiss

    manifest = read_manifest(root)
    if manifest is None:
        raise IndexMissingError(f"no index at {root}; run `policyqa build` first")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMissingError(
            f"index at {root} has format {manifest.get('format')}, this version reads {FORMAT_VERSION}; "
            "run `policyqa build`"
        )
    try:
        passages = [
            _passage_from_json(json.loads(line))
            for line in (root / "passages.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        roots = _sections_from_json(json.loads((root / "sections.json").read_text(encoding="utf-8")))
        documents = [
            Document(
                **{**d, "names": tuple(d.get("names", ())), "area_names": tuple(map(tuple, d.get("area_names", ())))}
            )
            for d in json.loads((root / "documents.json").read_text(encoding="utf-8"))
        ]
        dense = faiss.read_index(str(root / "dense.faiss"))
        bm25 = bm25s.BM25.load(str(root / _BM25_DIR), show_progress=False)
        with np.load(root / "sentences.npz") as arrays:
            sentences, sentence_vectors = arrays["rows"], arrays["vectors"]
            headers = [str(h) for h in arrays["headers"]]
        with np.load(root / _MULTILINGUAL) as arrays:
            multilingual = (arrays["passages"], arrays["sentences"])
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexStoreError(f"index at {root} is unreadable: {exc}") from exc
    if dense.ntotal != len(passages) or len(multilingual[0]) != len(passages):
        raise IndexStoreError(f"index at {root} is inconsistent: {dense.ntotal} vectors, {len(passages)} passages")
    return StoredIndex(
        root.resolve(),
        manifest,
        documents,
        roots,
        passages,
        dense,
        bm25,
        sentences,
        sentence_vectors,
        multilingual,
        headers,
    )
