"""The one lexical scorer: bm25s over Snowball stems, for the passages and for answer candidates.

Both the retrieval leg's BM25 over the passages and the answer's BM25 over
a question's candidate units tokenize and score here, through one
``Analyzer`` type. They use two measured settings of it (``PASSAGES``,
``UNITS``): the same tokenizer for both costs answers or rankings, as
``docs/retrieval-experiments.md`` records (bm25s's English stopwords drop
"not" and "no", which tell "does not certify" from "certifies" when an
answer is chosen; the answer's short list lets "the", "of" and one-letter
tokens into the passage ranking).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["PASSAGES", "UNITS", "Analyzer"]

_ANSWER_STOPWORDS = (
    "a an and are as at be by can could did do does for from had has have how in is it its of on or that the "
    "their there these this to was were what when where which who why will with would"
).split()


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@dataclass(frozen=True, slots=True)
class Analyzer:
    """How texts become BM25 terms (lower case, a token pattern, stopwords, English stems) and BM25's constants."""

    token_pattern: str
    stopwords: str | tuple[str, ...]
    k1: float = 1.5
    b: float = 0.75

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's stems, in order, stopwords dropped (repeats kept: BM25 counts them)."""
        import bm25s

        if not texts:
            return []
        stopwords = self.stopwords if isinstance(self.stopwords, str) else list(self.stopwords)
        return bm25s.tokenize(
            list(texts),
            token_pattern=self.token_pattern,
            stopwords=stopwords,
            stemmer=_stemmer(),
            show_progress=False,
            return_ids=False,
        )

    def stems(self, text: str) -> set[str]:
        """The set of ``text``'s stems."""
        return set(self.tokenize([text])[0])

    def index(self, tokens: list[list[str]]) -> Any:
        """A bm25s index (Lucene's scoring) over tokenized texts."""
        import bm25s

        model = bm25s.BM25(k1=self.k1, b=self.b, method="lucene")
        model.index(tokens, show_progress=False)
        return model

    def rank_among(self, terms: set[str], texts: Sequence[str]) -> np.ndarray:
        """BM25 of each text for ``terms``, with document frequencies among these texts, scaled to [0, 1].

        A throw-away index of the candidates: their document frequencies, not
        the corpus', tell a candidate's distinctive words from the ones every
        candidate shares.
        """
        tokens = self.tokenize(texts)
        if not terms or not any(tokens):
            return np.zeros(len(texts))
        out = np.asarray(self.index(tokens).get_scores(sorted(terms)), dtype=float)
        top = out.max()
        return out / top if top > 0 else out


PASSAGES = Analyzer(token_pattern=r"(?u)\b\w\w+\b", stopwords="en")
"""The retrieval leg: bm25s's defaults (its English stopword list, words of two characters or more)."""

UNITS = Analyzer(token_pattern=r"[a-z0-9]+", stopwords=tuple(_ANSWER_STOPWORDS), k1=1.2)
"""Answer candidates: a short stopword list that keeps negations, every letter-or-digit run."""
