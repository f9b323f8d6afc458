"""The cross-lingual leg: multilingual-e5 cosine of every passage (non-English questions).

A long passage's e5 vector is close to many Spanish questions (a "hub"),
while the unit that states the asked fact is not; so a passage scores
``(passage + w * best unit) / (1 + w)``, a unit being an answer unit
(sentence, list item, table row). The weight was measured on the Spanish
dev split (docs/retrieval-experiments.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qa.legs.base import LegQuery, register_leg
from qa.legs.lexical import TRANSLATED_WEIGHT, UNTRANSLATED_WEIGHT

if TYPE_CHECKING:
    from index.store import StoredIndex

__all__ = ["BEST_UNIT_WEIGHT", "MultilingualLeg"]

BEST_UNIT_WEIGHT = 0.5
"""Weight of a passage's best answer unit beside the passage itself."""


class MultilingualLeg:
    """e5 cosine of every passage, blended with its best unit's; the filter as a mask."""

    component = "dense"

    def __init__(self, index: StoredIndex) -> None:
        self.index = index
        unit_passage = np.asarray(index.sentences[:, 0], dtype=np.int64)  # passage of each unit's row
        # Units are stored passage by passage: the first row of each passage's run, and that passage.
        self._unit_starts = np.flatnonzero(np.diff(unit_passage, prepend=-1))
        self._unit_owners = unit_passage[self._unit_starts]

    def applies(self, query: LegQuery) -> bool:
        return query.language != "en"

    def weight(self, query: LegQuery) -> float:
        # The rest of convex fusion beside the lexical leg's share for this question.
        return 1 - (TRANSLATED_WEIGHT if query.english else UNTRANSLATED_WEIGHT)

    def scores(self, query: LegQuery, mask: np.ndarray | None) -> np.ndarray:
        vector = query.vector()
        dense = self.index.multilingual_scores(vector, mask)
        if not BEST_UNIT_WEIGHT:
            return dense
        best = self._best_unit(self.index.multilingual_sentences @ vector.astype(np.float32), dense)
        return ((dense + BEST_UNIT_WEIGHT * best) / (1 + BEST_UNIT_WEIGHT)).astype(np.float32)

    def _best_unit(self, unit_scores: np.ndarray, passage_scores: np.ndarray) -> np.ndarray:
        """Each passage's best unit score (its own score where it has no unit; -inf stays -inf)."""
        best = np.full(len(passage_scores), -np.inf, dtype=np.float32)
        if len(self._unit_starts):
            # One reduceat over the runs (np.maximum.at, unbuffered, took 5 ms at 100,000 units).
            best[self._unit_owners] = np.maximum.reduceat(unit_scores.astype(np.float32), self._unit_starts)
        return np.where(np.isfinite(passage_scores), np.where(np.isfinite(best), best, passage_scores), -np.inf)


register_leg("multilingual", MultilingualLeg)
