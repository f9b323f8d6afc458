"""The dense leg: MiniLM cosine of every passage, searched in FAISS (English questions).

The passage vector alone: mixing in the closest sentence's cosine was
measured worse on dev (docs/retrieval-experiments.md), since a sentence out
of context ("Mexico has ...") matches too many questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qa.legs.base import LegQuery, register_leg

if TYPE_CHECKING:
    from index.store import StoredIndex

__all__ = ["WEIGHT", "DenseLeg"]

WEIGHT = 0.7
"""Share of the dense leg in convex fusion beside BM25 (``qa.legs.lexical.ENGLISH_WEIGHT``)."""


class DenseLeg:
    """Cosine of the question's MiniLM vector to every passage's, the filter applied inside FAISS."""

    component = "dense"

    def __init__(self, index: StoredIndex) -> None:
        self.index = index

    def applies(self, query: LegQuery) -> bool:
        return query.language == "en"

    def weight(self, query: LegQuery) -> float:
        return WEIGHT

    def scores(self, query: LegQuery, mask: np.ndarray | None) -> np.ndarray:
        # An approximate (HNSW) index also scores BM25's best passages exactly (index.ann), so that a
        # passage the lexical leg ranks high keeps its dense score in the fusion; a flat one scores all.
        also = self.index.bm25_scores(query.text) if self.index.approximate else None
        return self.index.dense_scores(query.vector(), mask, also=also)


register_leg("dense", DenseLeg)
