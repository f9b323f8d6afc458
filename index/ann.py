"""The dense leg's FAISS index, chosen by collection size: exact (flat) or approximate (HNSW).

An exact inner-product scan of every passage vector is what the bundled
corpus uses and what keeps its results unchanged; it costs time in
proportion to the passages. From ``settings.ann_min_passages`` passages on,
a build writes an HNSW graph instead (``faiss.IndexHNSWFlat``, inner
product on unit vectors), whose search visits a few thousand vectors
whatever the size. Its parameters are settings, measured with
``policyqa bench --scale`` (README "Scale"), and written into the index
file itself (FAISS stores ``efSearch`` with the graph), so a loaded index
searches as it was built.

Both kinds keep their vectors in an ``IndexFlat`` storage that
``faiss.IO_FLAG_MMAP_IFC`` memory-maps: server workers share one copy. An
HNSW graph's links (about ``2 * M`` ints per passage) are read into each
worker's memory.

An approximate search returns its best ``efSearch`` candidates; a filtered
search over a small share of the passages ranks them exactly instead, since
a graph walk restricted to a few allowed nodes loses recall. The store adds
exact scores of a fixed sample of passages (``range_sample``) and of the
lexical leg's best, so that convex fusion's min-max range, and the passages
BM25 ranks high, are scored as an exact scan would score them
(``candidate_scores``). Both vector legs use it: the MiniLM passages
(``StoredIndex.dense_scores``) and, from the same size on, the
multilingual-e5 passages (``StoredIndex.multilingual_scores``), whose best
answer unit is then computed over the candidate passages only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "EXACT_FILTER_SHARE",
    "FLAT",
    "LEXICAL_RESCORED",
    "RANGE_SAMPLE",
    "DenseSpec",
    "build_dense",
    "candidate_scores",
    "dense_kind",
    "exact_scores",
    "range_sample",
    "search_dense",
    "storage_vectors",
]

EXACT_FILTER_SHARE = 0.2
"""A filter allowing at most this share of the passages is searched exactly (its rows only)."""

RANGE_SAMPLE = 2048
"""Passages, evenly spread, an approximate dense leg also scores exactly: their lowest score stands
for the whole collection's in convex fusion's min-max normalisation."""

LEXICAL_RESCORED = 256
"""The lexical leg's best passages an approximate dense leg also scores exactly, so a passage BM25
ranks high keeps its dense score in the fusion even when the graph search did not return it."""


@dataclass(frozen=True, slots=True)
class DenseSpec:
    """Which dense index a build writes, and its HNSW parameters (recorded in the manifest)."""

    kind: Literal["flat", "hnsw"]
    m: int = 0
    ef_construction: int = 0
    ef_search: int = 0

    @classmethod
    def for_size(cls, passages: int, settings: Settings, *, multilingual: bool = False) -> DenseSpec:
        """Flat below ``settings.ann_min_passages`` passages, HNSW from there on.

        ``multilingual`` gives the e5 passages' index: the same rule, its own efSearch
        (``settings.hnsw_ef_search_multilingual``, measured for e5's vectors).
        """
        if passages < settings.ann_min_passages:
            return cls("flat")
        ef = settings.hnsw_ef_search_multilingual if multilingual else settings.hnsw_ef_search
        return cls("hnsw", settings.hnsw_m, settings.hnsw_ef_construction, ef)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) if self.kind == "hnsw" else {"kind": "flat"}


FLAT = DenseSpec("flat")
"""The exact index: every passage scored."""


def build_dense(vectors: np.ndarray, spec: DenseSpec) -> Any:
    """A FAISS index of ``vectors`` (unit rows) as ``spec`` says, vectors added."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if spec.kind == "flat":
        index = faiss.IndexFlatIP(vectors.shape[1])  # exact cosine on unit vectors
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], spec.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = spec.ef_construction
        index.hnsw.efSearch = spec.ef_search
    index.add(vectors)
    return index


def dense_kind(index: Any) -> str:
    """``"hnsw"`` for an HNSW index, else ``"flat"``."""
    return "hnsw" if hasattr(index, "hnsw") else "flat"


def storage_vectors(index: Any) -> np.ndarray:
    """The index's vectors as a read-only (n, d) view of its storage (memory-mapped when loaded so)."""
    import faiss

    flat = faiss.downcast_index(index.storage) if hasattr(index, "hnsw") else index
    n, d = flat.ntotal, flat.d
    if n == 0:
        return np.zeros((0, d), dtype=np.float32)
    view = faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)
    view.flags.writeable = False
    return view


def search_dense(
    index: Any, vector: np.ndarray, allowed: np.ndarray | None, k: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, passage indices) of the best ``k`` passages (all, for a flat index and ``k`` None).

    An HNSW index returns at most ``max(k, efSearch)`` candidates. Passages
    outside ``allowed`` are never returned.
    """
    import faiss

    n = index.ntotal
    query = vector.reshape(1, -1).astype(np.float32)
    if dense_kind(index) == "flat":
        k = n if k is None else min(k, n)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            if len(ids) == 0:
                return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
            k = min(k, len(ids))
        dist, idx = index.search(query, k, params=params)
        valid = idx[0] >= 0
        return dist[0][valid], idx[0][valid]
    ef = int(index.hnsw.efSearch)
    k = min(n, ef if k is None else max(k, ef))
    params = faiss.SearchParametersHNSW(efSearch=max(ef, k))
    if allowed is not None:
        ids = np.flatnonzero(allowed).astype(np.int64)
        if len(ids) <= EXACT_FILTER_SHARE * n:
            return _exact_subset(index, query[0], ids, k)
        params.sel = faiss.IDSelectorBatch(ids)  # kept alive by params for the search
    dist, idx = index.search(query, k, params=params)
    valid = idx[0] >= 0
    return dist[0][valid], idx[0][valid]


def candidate_scores(
    index: Any,
    vector: np.ndarray,
    allowed: np.ndarray | None = None,
    k: int | None = None,
    also: np.ndarray | None = None,
    sample: np.ndarray | None = None,
) -> np.ndarray:
    """Cosine of every passage of ``index`` to ``vector`` as a leg sees it; -inf outside ``allowed``.

    A flat index scores every passage (``also`` unused). An approximate
    (HNSW) index scores its best candidates, plus exactly: ``sample``
    (``range_sample``, whose lowest score stands for the collection's in
    convex fusion's min-max normalisation) and the best ``LEXICAL_RESCORED``
    passages of ``also`` (the lexical leg's scores); every other passage is
    -inf. One rule for both vector legs, so they choose candidates alike.
    """
    n = index.ntotal
    dist, idx = search_dense(index, vector, allowed, k)
    out = np.full(n, -np.inf, dtype=np.float32)
    if dense_kind(index) == "hnsw" and k is None:
        extra = [range_sample(n) if sample is None else sample]
        if also is not None:
            best = np.argpartition(-also, min(LEXICAL_RESCORED, n) - 1)[:LEXICAL_RESCORED]
            extra.append(best[np.isfinite(also[best])])
        rows = np.unique(np.concatenate(extra))
        if allowed is not None:
            rows = rows[allowed[rows]]
        out[rows] = exact_scores(index, vector, rows)
    out[idx] = dist
    return out


def range_sample(n: int) -> np.ndarray:
    """``RANGE_SAMPLE`` passage indices evenly spread over ``n`` (all of them when fewer)."""
    if n <= RANGE_SAMPLE:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, RANGE_SAMPLE).astype(np.int64))


def exact_scores(index: Any, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The exact inner product of ``vector`` with the vectors of passages ``ids``."""
    return (storage_vectors(index)[ids] @ vector.astype(np.float32)).astype(np.float32)


def _exact_subset(index: Any, query: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if len(ids) == 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    scores = storage_vectors(index)[ids] @ query
    top = np.argsort(-scores, kind="stable")[:k]
    return scores[top].astype(np.float32), ids[top]
