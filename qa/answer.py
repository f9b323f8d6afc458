"""Extractive answers: the sentence (or two) of the top passages that best answers a query.

The retriever ranks passages; a reader wants the one sentence that answers.
The top passages are split into sentences with their character offsets in
the corpus file (a passage's text is exactly ``file[start:end]``, so a
sentence's offsets are the passage start plus its offset in the passage),
each sentence is embedded with the same model as the index and scored by
cosine similarity to the query, and the best one is returned, with the next
sentence when it plainly continues it.

Whether anything is relevant enough is decided by ``min_score``, which the
settings carry as ``answer_min_score``. Its default, 0.48, was measured, not
guessed: ``scripts/calibrate_answer.py`` runs the 32 answerable and 30
unanswerable questions of ``eval/answerability.jsonl`` through the real
model. Leaving out the two that name a section (always answered), the
best-sentence cosine of the 30 answerable ones ranged 0.517-0.937 (median
0.716), of the 30 unanswerable ones 0.096-0.445 (median 0.179); 0.48 is the
midpoint of the gap and classifies all 60 right.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from index.sentences import split_sentences
from qa.types import Answer, Hit, Passage, Span

if TYPE_CHECKING:
    from index.embed import Embedder

__all__ = ["ANSWER_PASSAGES", "Answer", "extract_answer", "split_sentences"]

ANSWER_PASSAGES = 3
"""How many top passages the answer may come from: past the third, passages
are rarely the answer and each one costs embedding time on every query."""

# A sentence that opens with one of these leans on the one before it: it
# refers back ("This", "Such") or qualifies it ("However"). Additive openers
# ("In addition", "Also") do not: their sentence stands alone.
_CONTINUES = re.compile(
    r"^(?:This|These|That|Those|It|They|Such|Thus|However|Likewise|Therefore|In this regard|"
    r"For example|For instance)\b"
)


LEXICAL_WEIGHT = 0.5
"""Weight of the share of query word stems a sentence contains, beside its cosine."""

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by can could did do does for from had has have how in is it its of on or that the "
    "their there these this to was were what when where which who why will with would".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # the same English stemmer as the BM25 leg

    return Stemmer.Stemmer("english")


def _stems(text: str) -> set[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return set(_stemmer().stemWords(words)) if words else set()


def _overlap(terms: set[str], sentences: list[str]) -> np.ndarray:
    """Share of the query's stems in each sentence, weighted by rarity among these sentences.

    "Mexico" is in most sentences of these reports and tells them apart
    least; "certify" is in few and tells them apart most.
    """
    stems = [_stems(s) for s in sentences]
    if not terms or not stems:
        return np.zeros(len(sentences))
    idf = {t: np.log((len(stems) + 1) / (sum(t in s for s in stems) + 0.5)) for t in terms}
    total = sum(idf.values())
    return np.array([sum(idf[t] for t in terms & s) / total for s in stems])


def _texts(per_passage: list[tuple[Passage, list[str]]]) -> list[str]:
    return [t for _, texts in per_passage for t in texts]


@dataclass(frozen=True, slots=True)
class _Candidate:
    passage: Passage
    spans: list[Span]  # the passage's sentences, corpus offsets
    index: int  # which of them


def extract_answer(
    query: str,
    hits: Sequence[Hit],
    query_vector: np.ndarray,
    embedder: Embedder,
    min_score: float,
    passages: int = ANSWER_PASSAGES,
    cache: MutableMapping[str, np.ndarray] | None = None,
) -> Answer | None:
    """The best-matching sentence of the top ``passages`` hits, or None if none reaches ``min_score``.

    A query that names a section by number ("priority action 2.6") is
    answered from that section whatever the score: the section exists and
    the user asked for it, while a question made of a number and "say"
    shares little meaning with any sentence.

    ``query_vector`` is the query's embedding, computed once per request by
    the retriever (``Retriever.encode_query``) and shared with the dense leg.
    ``cache`` (passage id -> its sentence vectors, filled at build time) saves
    embedding sentences per request; ``embedder`` embeds only what it lacks.
    """
    candidates: list[_Candidate] = []
    per_passage: list[tuple[Passage, list[str]]] = []
    if hits and "route" in hits[0].scores:
        # The question named a section: answer from the passage the retriever
        # put first for it (its most relevant one, or its opening for a bare
        # "recommendation 12"), not from text that merely ranks next.
        hits = hits[:1]
    for hit in hits[:passages]:
        p = hit.passage
        spans = split_sentences(p.text, p.start)
        candidates.extend(_Candidate(p, spans, i) for i in range(len(spans)))
        per_passage.append((p, [p.text[s - p.start : e - p.start] for s, e in spans]))
    if not candidates:
        return None
    store = cache if cache is not None else {}
    todo = [(p, texts) for p, texts in per_passage if texts and p.id not in store]
    fresh = [t for _, texts in todo for t in texts]
    if fresh:
        vectors = embedder.encode(fresh)
        pos = 0
        for p, texts in todo:
            store[p.id] = vectors[pos : pos + len(texts)]
            pos += len(texts)
    sentence_vectors = np.vstack([store[p.id] for p, texts in per_passage if texts])
    scores = sentence_vectors @ query_vector
    routed = "route" in hits[0].scores
    # Whether anything answers is decided on cosine alone (what the threshold
    # was calibrated on); which sentence answers also weighs the query's own
    # words, which MiniLM blurs: "certify ... rehabilitation" must prefer
    # "does not certify personnel who work in rehabilitation" over a sentence
    # merely about training in rehabilitation.
    if float(scores.max()) < min_score and not routed:
        return None
    if hits[0].scores.get("reading_order"):
        best = 0  # a bare "recommendation 12": the answer is how the section opens
    else:
        best = int(np.argmax(scores + LEXICAL_WEIGHT * _overlap(_stems(query), _texts(per_passage))))
    c = candidates[best]
    start, end = _widen(c.passage.text, [(s - c.passage.start, e - c.passage.start) for s, e in c.spans], c.index)
    text = c.passage.text[start:end]
    return Answer(text, float(scores[best]), c.passage, c.passage.start + start, c.passage.start + end)


def _widen(text: str, spans: list[Span], i: int) -> Span:
    """Sentence ``i`` of ``text``, joined to the one before or after it when it leans on it.

    "Likewise, this perspective is embraced..." needs the sentence before;
    "The programs are:" and a sentence followed by "However, ..." need the
    one after. One sentence is added at most: the answer is a sentence or two.
    """
    start, end = spans[i]
    if i > 0 and _CONTINUES.match(text[start:end]):
        return spans[i - 1][0], end
    if i + 1 < len(spans):
        n_start, n_end = spans[i + 1]
        if text[start:end].endswith(":") or _CONTINUES.match(text[n_start:n_end]):
            return start, n_end
    return start, end
