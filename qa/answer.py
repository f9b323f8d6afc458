"""Extractive answers: the sentence, list item or table row of the top passages that answers a query.

The retriever ranks passages; a reader wants the one unit that answers. Each
passage is cut into answer units at build time (``index.sentences``):
sentences, list items (the MEM's bullets, the Binational Strategy's
actions) and table rows (read with their header rows). Every unit's span is
in corpus-file offsets, so ``corpus_file[start:end]`` is the answer, and
every unit was embedded at build time with both models.

Choosing. The units of the top ``ANSWER_PASSAGES`` passages compete on one
score:

- the unit's cosine to the query (MiniLM, or multilingual-e5 for a Spanish
  question);
- ``LEXICAL_WEIGHT`` x BM25 of the query's word stems over the candidate
  units, scaled to [0, 1] (an English question's own words, a Spanish
  question's English from Apertium, ``qa.translate``; a table row is read
  with its header, so "2023" and "budget" count for every row of that table);
- ``GAP_WEIGHT`` x how far its passage's fused relevance trails the top
  passage's (``RANK_WEIGHT`` x its rank was measured too, and loses to it:
  the pieces of one long table rank apart yet score alike);
- ``LEAD_IN_WEIGHT`` off a unit ending with a colon ("Following is the amount
  of the annual budget ...:"), which announces the rows or items that answer;
- ``NUMBER_WEIGHT`` when the question asks for a figure ("how many", "how
  much", "what share", "which year", "budget", "rate") and the unit holds
  one, and ``TABLE_WEIGHT`` more for a table row;
- ``FRAGMENT_WEIGHT`` off a sentence of fewer than ``FRAGMENT_WORDS`` words
  ("Bicentennial Agreement."): a name or caption that matches the question's
  words and states nothing;
- never a bare layout label alone on its line ("Current status", at most
  ``LABEL_WORDS`` words, no closing punctuation).

The signals' figures, and those measured and not kept, are in
``docs/answer-experiments.md``.

A table row's answer names its header and, when the question names one of
its columns (a year, "coverage rate"), that cell.

Whether anything answers is decided by ``min_score`` (``answer_min_score``
in the settings) against the answer's ``relevance``: the best cosine of the
top ``DECISION_PASSAGES`` passages and of their units, calibrated with
``scripts/calibrate_answer.py`` on ``eval/answerability.jsonl``. A question
that names a section by number is always answered from that section's
passages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.types import Answer, Hit, Passage
from index.lexical import UNITS
from index.sentences import Unit, answer_units, split_sentences, unit_embed_text
from qa.spans import named_cell, widen_span

if TYPE_CHECKING:
    from index.embed import Embedder

__all__ = ["ANSWER_PASSAGES", "Answer", "UnitStore", "extract_answer", "split_sentences"]

ANSWER_PASSAGES = 5
"""How many top passages the answer may come from (measured on dev: see the module docstring)."""

DECISION_PASSAGES = 3
"""Whether anything answers is judged on this many top passages (the answer's ``relevance``: the
best cosine of their units and of the passages themselves). Over five, off-topic questions find a
close-enough unit more often (on ``eval/answerability_es.jsonl``, units alone: 45 of 52 classified
right at best, against 46 over three)."""

LEXICAL_WEIGHT = 0.5
"""Weight of the rarity-weighted share of query stems a unit holds, beside its cosine."""

RANK_WEIGHT = 0.0
"""Score taken off per rank of the unit's passage (0 for the top passage)."""

GAP_WEIGHT = 2.0
"""Score taken off per point of fused relevance the unit's passage trails the top passage by."""

NUMBER_WEIGHT = 0.2
"""Added to a unit holding a figure when the question asks for one."""

TABLE_WEIGHT = 0.2
"""Added again when that unit is a table row."""

LEAD_IN_WEIGHT = 0.2
"""Taken off a unit that ends with a colon: it announces a list or table ("Following is the amount
of the annual budget ...:") whose items hold what it only introduces."""

LABEL_WORDS = 8
"""Longest bare line (no closing punctuation; a stray quote does not count) taken for a sub-heading
rather than an answer (measured: docs/answer-experiments.md, "Layout labels")."""

FRAGMENT_WORDS = 4
"""A sentence unit of fewer words ("Bicentennial Agreement.") is a fragment: a name or a caption
the splitter cut off, close to a question that names it yet stating nothing."""

FRAGMENT_WEIGHT = 0.2
"""Taken off such a fragment (measured on dev: the same answers for 0.1-0.4 and 3-5 words)."""

# Questions that ask for a figure: a count, an amount, a share, a rate, a year.
_ASKS_NUMBER = re.compile(
    r"\b(?:how (?:many|much|often)|what (?:share|percentage|proportion|fraction|amount|number|year)|"
    r"which year|in what year|percent\w*|budget\w*|rate|figures?|amount|numbers?|coverage|"
    r"cu[aá]nt[oa]s?|porcentaje|presupuesto|tasa|cobertura|qu[eé] a[nñ]o)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class _Candidate:
    passage: Passage
    rank: int  # of its passage among the hits considered, 0 first
    gap: float  # how far its passage's fused relevance trails the first passage's
    units: list[Unit]  # the passage's units
    index: int  # which of them

    @property
    def unit(self) -> Unit:
        return self.units[self.index]

    def text(self) -> str:
        u, p = self.unit, self.passage
        return p.text[u.start - p.start : u.end - p.start]


@dataclass(frozen=True, slots=True)
class UnitStore:
    """One question language's answer units and their vectors, as the index holds them.

    ``vectors`` (passage id -> its units' vectors, in ``units``' order) and
    ``units`` (passage id -> its answer units) are filled at build time; a
    passage missing from them is cut and embedded on demand (``embedder``),
    and its vectors are kept in ``vectors``.
    """

    embedder: Embedder
    vectors: MutableMapping[str, np.ndarray] = field(default_factory=dict)
    units: Mapping[str, list[Unit]] = field(default_factory=dict)


def extract_answer(
    query: str,
    hits: Sequence[Hit],
    query_vector: np.ndarray,
    store: UnitStore,
    min_score: float,
    words: str | None = None,
) -> Answer | None:
    """The best answer unit of the top ``ANSWER_PASSAGES`` hits, or None if none reaches ``min_score``.

    A query that names a section by number ("priority action 2.6") is
    answered from that section whatever the score: the section exists and
    the user asked for it, while a question made of a number and "say"
    shares little meaning with any sentence.

    ``query_vector`` is the query's embedding, computed once per request by
    the retriever and shared with the legs. ``words`` are what the
    candidates are matched with lexically: the question itself, a Spanish
    question's English (``qa.translate``), or None (a question in another
    language than the reports', untranslated: its words would match English
    text only by accident).
    """
    passages = ANSWER_PASSAGES
    if hits and "route" in hits[0].scores:
        # The question named a section: answer from that section's passages the
        # retriever put first (its most relevant ones, or its opening for a bare
        # "recommendation 12"), not from text that merely ranks next.
        hits = [h for h in hits[:passages] if "route" in h.scores]
    candidates: list[_Candidate] = []
    per_passage: list[tuple[Passage, list[Unit]]] = []
    top = hits[0].scores.get("fused", 0.0) if hits else 0.0
    for rank, hit in enumerate(hits[:passages]):
        p = hit.passage
        own = list(store.units[p.id]) if p.id in store.units else answer_units(p.text, p.start)
        gap = max(0.0, top - hit.scores.get("fused", 0.0))
        candidates.extend(_Candidate(p, rank, gap, own, i) for i in range(len(own)))
        per_passage.append((p, own))
    if not candidates:
        return None
    cache = store.vectors
    todo = [(p, own) for p, own in per_passage if own and p.id not in cache]
    fresh = [unit_embed_text(p.text[u.start - p.start : u.end - p.start], u) for p, own in todo for u in own]
    if fresh:
        vectors = store.embedder.encode(fresh)
        pos = 0
        for p, own in todo:
            cache[p.id] = vectors[pos : pos + len(own)]
            pos += len(own)
    unit_vectors = np.vstack([cache[p.id] for p, own in per_passage if own])
    cosines = unit_vectors @ query_vector
    routed = "route" in hits[0].scores
    # Whether anything answers is decided on cosine alone (what the threshold
    # was calibrated on); which unit answers also weighs the query's own
    # words, which the models blur: "certify ... rehabilitation" must prefer
    # "does not certify personnel who work in rehabilitation" over a sentence
    # merely about training in rehabilitation.
    # A table row, mostly figures, lies far from any question in embedding space while its passage
    # (embedded with its heading context) lies close: the passages' own cosines count too.
    passage_cosines = [h.scores["dense"] for h in hits[:DECISION_PASSAGES] if "dense" in h.scores]
    relevance = float(
        max([cos for c, cos in zip(candidates, cosines, strict=True) if c.rank < DECISION_PASSAGES] + passage_cosines)
    )
    if relevance < min_score and not routed:
        return None
    best = 0  # a bare "recommendation 12": the answer is how the section opens
    if not hits[0].scores.get("reading_order"):
        best = int(np.argmax(_choice_scores(query, candidates, cosines, words)))
    c = candidates[best]
    p, unit = c.passage, c.unit
    if unit.kind != "sentence":
        header = unit.header or None
        # The column may be named by a year in the question or a word of its English ("cobertura" -> "coverage").
        named = query if words in (None, query) else f"{query} {words}"
        cell = named_cell(named, c.text(), unit.header) if unit.kind == "table_row" else None
        return Answer(c.text(), float(cosines[best]), p, unit.start, unit.end, unit.kind, header, cell, relevance)
    start, end = widen_span(p.text, c.units, c.index, p.start)
    text = p.text[start - p.start : end - p.start]
    return Answer(text, float(cosines[best]), p, start, end, relevance=relevance)


def _choice_scores(query: str, candidates: list[_Candidate], cosines: np.ndarray, words: str | None) -> np.ndarray:
    """Cosine plus the weighted lexical (over ``words``), passage-rank and answer-kind signals of every candidate."""
    raw = [c.text() for c in candidates]
    texts = [unit_embed_text(t, c.unit) for t, c in zip(raw, candidates, strict=True)]
    scores = cosines + (LEXICAL_WEIGHT * UNITS.rank_among(UNITS.stems(words), texts) if words else 0.0)
    scores = scores - RANK_WEIGHT * np.array([c.rank for c in candidates], dtype=float)
    scores = scores - GAP_WEIGHT * np.array([c.gap for c in candidates], dtype=float)
    scores = scores - LEAD_IN_WEIGHT * np.array([t.endswith(":") for t in raw], dtype=float)
    fragments = [
        c.unit.kind == "sentence" and len(t.split()) < FRAGMENT_WORDS for t, c in zip(raw, candidates, strict=True)
    ]
    scores = scores - FRAGMENT_WEIGHT * np.array(fragments, dtype=float)
    if _ASKS_NUMBER.search(query):
        figure = np.array([bool(_DIGIT.search(t)) for t in raw], dtype=float)
        row = np.array([c.unit.kind == "table_row" for c in candidates], dtype=float)
        scores = scores + NUMBER_WEIGHT * figure + TABLE_WEIGHT * row
    # A short line without punctuation standing alone ("Current status", "Indicator") is a
    # sub-heading of the report's layout, never an answer.
    labels = np.array([_is_label(c) for c in candidates])
    return scores if labels.all() else np.where(labels, -np.inf, scores)


def _is_label(c: _Candidate) -> bool:
    """Whether the candidate is a bare sub-heading line: a sentence unit of at most
    ``LABEL_WORDS`` words, without closing punctuation, alone on its line."""
    if c.unit.kind != "sentence":
        return False
    text = c.text()
    p = c.passage
    before = p.text[: c.unit.start - p.start]
    after = p.text[c.unit.end - p.start :]
    alone = (not before.strip(" \t") or before.rstrip(" \t").endswith("\n")) and (
        not after.strip(" \t") or after.lstrip(" \t").startswith("\n")
    )
    end = text.rstrip()
    if end[-1:] in '"”' and sum(end.count(q) for q in '"“”') == 1:
        end = end[:-1]  # a stray quote left by the conversion ('People at Large"') closes nothing
    return alone and "\n" not in text and len(text.split()) <= LABEL_WORDS and end[-1:] not in '.!?:;)"”'
