"""The cross-lingual leg: multilingual-e5 cosine of the passages (non-English questions).

A long passage's e5 vector is close to many Spanish questions (a "hub"),
while the unit that states the asked fact is not; so a passage scores
``(passage + w * best unit) / (1 + w)``, a unit being an answer unit
(sentence, list item, table row). The weight was measured on the Spanish
dev split (docs/retrieval-experiments.md).

Below ``ann_min_passages`` every passage and every unit is scored exactly.
From there on the e5 passages have an HNSW index (``index.ann``): the leg
scores its candidates plus the English dense leg's extra passages (a fixed
sample, BM25's best), and the best unit of those candidate passages only;
units are stored passage by passage, so a candidate's units are one slice
(``candidate_best_units``). At 300 reports that is a few thousand passages'
units instead of 98,400.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qa.legs.base import LegQuery, register_leg
from qa.legs.lexical import TRANSLATED_WEIGHT, UNTRANSLATED_WEIGHT

if TYPE_CHECKING:
    from index.store import StoredIndex

__all__ = ["BEST_UNIT_WEIGHT", "MultilingualLeg", "candidate_best_units"]

BEST_UNIT_WEIGHT = 0.5
"""Weight of a passage's best answer unit beside the passage itself."""


def candidate_best_units(
    unit_vectors: np.ndarray, offsets: np.ndarray, passages: np.ndarray, vector: np.ndarray, n: int
) -> np.ndarray:
    """The best unit score of each passage of ``passages``, -inf for every other (and unit-less) one.

    ``offsets`` (n + 1 rows) says passage i's units are rows
    ``[offsets[i], offsets[i + 1])`` of ``unit_vectors``. Only those rows are
    gathered and scored, one matrix product and one ``reduceat``: the same
    numbers as scoring every unit and taking each candidate's best.
    """
    best = np.full(n, -np.inf, dtype=np.float32)
    starts, ends = offsets[passages], offsets[passages + 1]
    counts = ends - starts
    passages, starts, counts = passages[counts > 0], starts[counts > 0], counts[counts > 0]
    if not len(passages):
        return best
    # Row numbers of every candidate's units, run after run: start of its run plus 0, 1, ...
    runs = np.cumsum(counts) - counts  # where each run begins among the gathered rows
    rows = np.repeat(starts - runs, counts) + np.arange(int(counts.sum()))
    scores = (np.asarray(unit_vectors)[rows] @ vector.astype(np.float32)).astype(np.float32)
    best[passages] = np.maximum.reduceat(scores, runs)
    return best


class MultilingualLeg:
    """e5 cosine of the passages, blended with each one's best unit's; the filter as a mask."""

    component = "dense"

    def __init__(self, index: StoredIndex) -> None:
        self.index = index
        unit_passage = np.asarray(index.sentences[:, 0], dtype=np.int64)  # passage of each unit's row
        # Units are stored passage by passage: the first row of each passage's run, and that passage.
        self._unit_starts = np.flatnonzero(np.diff(unit_passage, prepend=-1))
        self._unit_owners = unit_passage[self._unit_starts]
        # Passage i's units are rows [offsets[i], offsets[i + 1]) (an empty run for a unit-less one).
        self._offsets = np.searchsorted(unit_passage, np.arange(len(index.passages) + 1))

    def applies(self, query: LegQuery) -> bool:
        return query.language != "en"

    def weight(self, query: LegQuery) -> float:
        # The rest of convex fusion beside the lexical leg's share for this question.
        return 1 - (TRANSLATED_WEIGHT if query.english else UNTRANSLATED_WEIGHT)

    def scores(self, query: LegQuery, mask: np.ndarray | None) -> np.ndarray:
        vector = query.vector()
        approximate = self.index.multilingual_approximate
        # As the English dense leg: an approximate index also scores BM25's best passages exactly.
        also = self.index.bm25_scores(query.english or query.text) if approximate else None
        dense = self.index.multilingual_scores(vector, mask, also)
        if not BEST_UNIT_WEIGHT:
            return dense
        if approximate:
            candidates = np.flatnonzero(np.isfinite(dense))
            units = self.index.multilingual_sentences
            best = candidate_best_units(units, self._offsets, candidates, vector, len(dense))
        else:
            best = self._best_unit(self.index.multilingual_sentences @ vector.astype(np.float32))
        best = np.where(np.isfinite(dense), np.where(np.isfinite(best), best, dense), -np.inf)
        return ((dense + BEST_UNIT_WEIGHT * best) / (1 + BEST_UNIT_WEIGHT)).astype(np.float32)

    def _best_unit(self, unit_scores: np.ndarray) -> np.ndarray:
        """Each passage's best unit score from every unit's (-inf for a passage with no unit)."""
        best = np.full(len(self.index.passages), -np.inf, dtype=np.float32)
        if len(self._unit_starts):
            # One reduceat over the runs (np.maximum.at, unbuffered, took 5 ms at 100,000 units).
            best[self._unit_owners] = np.maximum.reduceat(unit_scores.astype(np.float32), self._unit_starts)
        return best


register_leg("multilingual", MultilingualLeg)
