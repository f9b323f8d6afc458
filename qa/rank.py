"""From fused scores to the list of hits: routing tiers, reading order, near-duplicates, score components.

Passages of sections the question names by number come first (tier 2),
then passages of a report it names ("according to the MEM", tier 1), then
the rest by fused relevance. Near-identical passages are shown once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from core.types import Hit, Passage
from qa.route import Route

__all__ = ["DUPLICATE_JACCARD", "Ranked", "Ranker", "best_first"]

DUPLICATE_JACCARD = 0.85
"""Word-set overlap above which two passages count as the same text."""

_WORD = re.compile(r"[a-z0-9]{3,}")


@dataclass(frozen=True, slots=True)
class Ranked:
    """One search's scores: the fused ranking score and each leg's, by component name."""

    fused: np.ndarray
    components: dict[str, np.ndarray]


class Ranker:
    """Orders one index's passages for a search and turns them into hits."""

    def __init__(self, passages: Sequence[Passage], section_passages: dict[str, list[int]]) -> None:
        self.passages = passages
        self.section_passages = section_passages
        self._words = _WordSets(passages)  # for near-duplicate checks, made as the hits need them
        # Each passage's report as a small integer, for the "named report" tier without a loop over passages.
        self._document_code: dict[str, int] = {}
        for p in passages:
            self._document_code.setdefault(p.document_id, len(self._document_code))
        self._passage_document = np.array([self._document_code[p.document_id] for p in passages], dtype=np.int32)

    def in_documents(self, documents: set[str]) -> np.ndarray:
        """Boolean mask of the passages of ``documents``."""
        codes = [self._document_code[d] for d in documents if d in self._document_code]
        return np.isin(self._passage_document, codes)

    def routed(self, r: Route, scores: np.ndarray, mask: np.ndarray | None) -> list[int]:
        """Passages of the named sections, ahead of everything else.

        Each named section contributes one head passage first, so every match
        shows on the first page; then the rest of their text, descendants
        included ("alliance point 6" covers its objectives and actions). A
        topical question ("Chile's reply to recommendation 8") orders by
        relevance; a bare reference ("PA 1.3") reads the section in order.
        """
        heads: list[int] = []
        rest: list[int] = []
        for section in r.sections:
            own = self.section_passages.get(section.id, [])
            inner = [i for child in section.walk()[1:] for i in self.section_passages.get(child.id, [])]
            candidates = [i for i in own + inner if mask is None or mask[i]]
            if not candidates:
                continue
            heads.append(max(candidates, key=lambda i: (_finite(scores[i]), -i)) if r.topical else candidates[0])
            rest.extend(candidates)
        if r.topical:
            heads.sort(key=lambda i: -_finite(scores[i]))
            rest.sort(key=lambda i: (-_finite(scores[i]), i))
        return list(dict.fromkeys(heads + rest))

    def hits(self, ranked: Ranked, order: Iterable[int], tier: np.ndarray, reading_order: bool, k: int) -> list[Hit]:
        """The first ``k`` passages of ``order`` that are not near-duplicates of one above, as hits."""
        hits: list[Hit] = []
        kept: list[int] = []
        for i in order:
            if any(self._duplicate(i, j) for j in kept):
                continue
            kept.append(i)
            # A leg that did not retrieve the passage has no score to show (-inf is not JSON).
            components = {
                name: float(values[i])
                for name, values in (*ranked.components.items(), ("fused", ranked.fused))
                if np.isfinite(values[i])
            }
            if tier[i] == 2:
                components["route"] = 1.0
                if reading_order:
                    components["reading_order"] = 1.0
            elif tier[i] == 1:
                components["document"] = 1.0
            # A higher tier outranks any fused score (convex scores lie in [0, 1]); the score says so.
            score = components.get("fused", 0.0) + 2.0 * float(tier[i])
            if hits and score > hits[-1].score:
                # A named section read in order ("PA 2.6": its opening first) ranks by position, not
                # relevance: the score is capped by the one above so that it orders the list as shown.
                # The relevance itself stays in components["fused"].
                score = hits[-1].score
            hits.append(Hit(self.passages[i], score, len(hits) + 1, components))
            if len(hits) == k:
                break
        return hits

    def _duplicate(self, i: int, j: int) -> bool:
        a, b = self._words[i], self._words[j]
        if not a or not b:
            return False
        return len(a & b) / len(a | b) >= DUPLICATE_JACCARD


class _WordSets:
    """Each passage's word set, made on first use: at 40,000 passages making all at load took 2 s."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self._passages = passages
        self._sets: dict[int, frozenset[str]] = {}

    def __getitem__(self, i: int) -> frozenset[str]:
        words = self._sets.get(i)
        if words is None:
            words = self._sets[i] = frozenset(_WORD.findall(self._passages[i].text.lower()))
        return words


_HEAD = 256
"""Passages ``best_first`` sorts before it sorts the rest: a page of hits rarely reads further."""


def best_first(candidates: np.ndarray, scores: np.ndarray) -> Iterator[int]:
    """``candidates`` (ascending passage indices) by descending score, ties in index order, lazily.

    The order of a stable ``argsort`` of ``-scores`` over them, sorting only the
    best ``_HEAD`` (ties at the cut included) unless the caller reads past them:
    at 40,000 passages a full sort and its list took 20 ms of a search.
    """
    s = scores[candidates]
    if len(candidates) > _HEAD:
        cut = np.partition(s, len(s) - _HEAD)[len(s) - _HEAD]
        top = s >= cut
        yield from candidates[top][np.argsort(-s[top], kind="stable")].tolist()
        candidates, s = candidates[~top], s[~top]
    yield from candidates[np.argsort(-s, kind="stable")].tolist()


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else -1e9
