"""The lexical leg: BM25 over the passages (bm25s, ``index.lexical``'s tokenizer).

A non-English question is matched by its English (``LegQuery.english``)
when a translator gives it, else by its own words at weight 0: Spanish
words match English text only by accident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qa.legs.base import LegQuery, register_leg

if TYPE_CHECKING:
    from index.store import StoredIndex

__all__ = ["ENGLISH_WEIGHT", "TRANSLATED_WEIGHT", "UNTRANSLATED_WEIGHT", "LexicalLeg"]

ENGLISH_WEIGHT = 0.3
"""Share of BM25 in convex fusion for an English question; the dense leg (0.7) carries paraphrases."""

TRANSLATED_WEIGHT = 0.2
"""Share of BM25 for a non-English question read through its English (Apertium): rough English,
but the reports' words, codes and names ("NOM-028", "Bicentennial Agreement") match. Measured
figures in docs/retrieval-experiments.md."""

UNTRANSLATED_WEIGHT = 0.0
"""Share of BM25 for a non-English question with no translation: its words ("de", "la",
"personal") match English text by accident, and min-max normalisation lifts that noise to the
dense leg's scale (docs/retrieval-experiments.md)."""


class LexicalLeg:
    """BM25 of every passage; a passage sharing no term with the query is not retrieved."""

    component = "bm25"

    def __init__(self, index: StoredIndex) -> None:
        self.index = index

    def applies(self, query: LegQuery) -> bool:
        return True

    def weight(self, query: LegQuery) -> float:
        if query.language == "en":
            return ENGLISH_WEIGHT
        return TRANSLATED_WEIGHT if query.english else UNTRANSLATED_WEIGHT

    def scores(self, query: LegQuery, mask: np.ndarray | None) -> np.ndarray:
        raw = self.index.bm25_scores(query.english or query.text)
        out = np.where(raw > 0, raw, -np.inf).astype(np.float32)
        if mask is not None:
            out[~mask] = -np.inf
        return out


register_leg("lexical", LexicalLeg)
