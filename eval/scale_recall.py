"""How close the approximate (HNSW) indexes come to exact search, for ``policyqa bench --scale``.

Three figures per vector leg (MiniLM for English, multilingual-e5 for
Spanish): recall@10 of the index alone against an exact scan of the same
vectors; for the e5 leg also recall@10 of the leg's scores (the candidates'
passage scores blended with their best unit's) against the leg's exact
scores; and the share of the routed top 10 that stays the same when an
exact index stands in for the approximate one. An exact index gives None
where the comparison would be with itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from eval.gold import Question
    from qa.retrieve import Retriever

__all__ = ["approximate_figures", "index_recall", "leg_recall", "routed_agreement"]


def _top(scores: np.ndarray, k: int) -> set[int]:
    return set(np.argsort(-scores, kind="stable")[:k].tolist())


def index_recall(index: Any, vectors: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top ``k`` (a scan of every vector) that ``index`` returns in its top ``k``."""
    from index.ann import search_dense, storage_vectors

    stored = storage_vectors(index)
    found = 0
    for v in vectors:
        exact = _top(stored @ v.astype(np.float32), k)
        dist, idx = search_dense(index, v, None, k)
        found += len(exact & set(idx[np.argsort(-dist, kind="stable")][:k].tolist()))
    return round(found / (k * len(vectors)), 4) if len(vectors) else 1.0


def leg_recall(retriever: Retriever, questions: Sequence[Question], vectors: np.ndarray, k: int = 10) -> float | None:
    """Mean share of the e5 leg's exact top ``k`` (every passage and unit scored) its approximate scores keep."""
    from qa.legs import LegQuery

    index = retriever.index
    if not index.multilingual_approximate or not len(questions):
        return None
    leg = retriever.leg("multilingual")
    queries = [LegQuery(q.question, q.language, None, lambda v=v: v) for q, v in zip(questions, vectors, strict=True)]
    approximate = [_top(leg.scores(q, None), k) for q in queries]
    ann, index.multilingual_dense = index.multilingual_dense, None  # the exact scan, as below the threshold
    try:
        exact = [_top(leg.scores(q, None), k) for q in queries]
    finally:
        index.multilingual_dense = ann
    return round(sum(len(a & e) for a, e in zip(approximate, exact, strict=True)) / (k * len(queries)), 4)


def routed_agreement(
    retriever: Retriever, search: Callable[[Any], list[str]], questions: Sequence[Any], attribute: str
) -> float | None:
    """Mean share of the routed top 10 (``search``'s passage ids) unchanged with an exact index.

    ``attribute`` names the index swapped for a flat one of the same vectors
    (``dense`` or ``multilingual_dense``); None when it is not approximate.
    """
    import faiss

    from index.ann import dense_kind, storage_vectors

    ann = getattr(retriever.index, attribute)
    if ann is None or dense_kind(ann) == "flat" or not questions:
        return None
    exact = faiss.IndexFlatIP(ann.d)
    exact.add(np.ascontiguousarray(storage_vectors(ann)))
    approximate = [search(q) for q in questions]
    setattr(retriever.index, attribute, exact)
    try:
        flat = [search(q) for q in questions]
    finally:
        setattr(retriever.index, attribute, ann)
    same = sum(len(set(a) & set(b)) for a, b in zip(approximate, flat, strict=True))
    return round(same / sum(len(b) for b in flat), 4) if flat else None


def approximate_figures(retriever: Retriever, questions: Sequence[Question], k: int = 10) -> dict[str, Any]:
    """Recall@``k`` against exact and routed agreement, English (MiniLM) and Spanish (e5) apart."""
    from index.ann import dense_kind

    index = retriever.index
    english = [q.question for q in questions if q.language == "en"]
    other = [q for q in questions if q.language != "en"]
    en_vectors = np.array([retriever.encode_query(q, "en") for q in english], dtype=np.float32)
    es_vectors = np.array([retriever.encode_query(q.question, q.language) for q in other], dtype=np.float32)
    e5 = index.multilingual_dense
    return {
        "multilingual_index": dense_kind(e5) if e5 is not None else "flat",
        "recall_at_10": index_recall(index.dense, en_vectors, k),
        "routed_top10_same_as_exact": routed_agreement(
            retriever, lambda q: [h.passage.id for h in retriever.search(q, k=k)], english, "dense"
        ),
        "e5_recall_at_10": index_recall(e5, es_vectors, k) if e5 is not None else None,
        "e5_leg_recall_at_10": leg_recall(retriever, other, es_vectors, k),
        "routed_top10_same_as_exact_es": routed_agreement(
            retriever,
            lambda q: [h.passage.id for h in retriever.search(q.question, k=k, language=q.language)],
            other,
            "multilingual_dense",
        ),
    }
