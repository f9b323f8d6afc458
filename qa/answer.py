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

Measured with ``scripts/measure_answer.py`` on the gold set's dev split (136
English questions, 115 of them with the evidence in the top 3; the share of
answers holding a gold quote, overall / among those 115): all signals
0.699 / 0.826 (0.691 / 0.817 before the label rule); cosine alone over 3 passages 0.500 / 0.591; without BM25
0.618 / 0.730; without the score gap 0.618 / 0.704; 3 passages instead of 5
0.662 / 0.783 (1: 0.684 / 0.809, 7: no change); without the number or the
table-row bonus 0.684 / 0.809 each; the lead-in penalty changes no English
answer and one Spanish one (right). A rank penalty on top of the gap (0.1-0.3): 0.676-0.684 /
0.800-0.809.

Measured again through ``policyqa eval --config routed`` (threshold on; 136
questions, 116 with the evidence in the top 3): 0.676 / 0.793 before the
fragment penalty, 0.684 / 0.802 with it (one answer changes, right; the same
for 0.1-0.4 and 3-5 words; Spanish and test unchanged). Tried on top of it
and not kept, none better than +1 question in either language: a score gap
weight of 1.5-3.0 (2.5: English unchanged, Spanish +1; 1.5 and 3.0 lose);
rank as log(1 + rank) (0.05: -2); a penalty per unit position inside the
passage (0.005: Spanish +1, 0.01: -2); BM25 length normalisation ``b`` 0.3
(-2) or 1.0 (0), ``k1`` 0.6 / 2.0 (0 / -1); a penalty on CICAD assessment
sentences (-2) or a bonus for units of deeper sections (-1); neighbouring
units' cosine (0 to -1); the passage's best-two unit cosines (-2 to -5);
query-bigram overlap (0 to -3); a bare section-number question answered by
its best unit rather than its opening (-3); MiniLM cosine mixed with the
multilingual-e5 cosine of the same units (0.1-0.2: no change, 0.3-0.5: -1 to
-3; it would cost one e5 encoding per English question, 30-50 ms here).

Measured after that, threshold off, English dev 96 of 136 right, 96 of 116
with the evidence in the top 3 (no answer outside the top 3 is ever right),
and none kept: a learned listwise combination of 22 candidate features,
scored leaving each question out (``scripts/answer_ceiling.py``): 93 / 93;
late interaction, the mean over the question's word pieces of their best
MiniLM token cosine in the unit (weight 0.25-3.0): 92-95; a unit embedded
with its section's title, or with the unit before it: 79-96; items and rows
embedded and matched with their lead-in sentence: 96, no answer changed;
IDF over all the corpus's units instead of the candidates: 91-95; the
question rewritten as a statement ("Does Mexico certify X?" -> "Mexico
certify X") for the cosine: 92-94; WordNet synonyms (Debian's wordnet-base,
first one or two senses) of the question's words, or only of those no
candidate holds, in the candidates' BM25 (weight 0.1-0.5): 82-93; a routed
question's BM25 over its topic words only: +1 of its 9. Spanish: a lexical match over language-neutral
tokens (figures, acronyms, names), +1 of 55. The signals, not their
weights, are the limit: a model that reads question and unit together (a
cross-encoder reranker) is the step left, and none can be installed here.

A table row's answer names its header and, when the question names one of
its columns (a year, "coverage rate"), that cell.

Whether anything answers is decided by ``min_score`` (``answer_min_score``
in the settings) against the answer's ``relevance``: the best cosine of the
top ``DECISION_PASSAGES`` passages and of their units, calibrated with
``scripts/calibrate_answer.py`` on ``eval/answerability.jsonl`` with the
served (int8 ONNX) query encoder (0.498: all 60 questions right, precision
and recall 1.000; Spanish 0.825 on ``eval/answerability_es.jsonl``: 48 of 52,
precision 0.867, recall 1.000; rerun 2026-12-02 after the encoder and the
Spanish best-unit leg had moved both from 0.503 and 0.819). A
question that names a section by number is always answered from that
section's passages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from core.types import Answer, Hit, Passage
from index.sentences import Unit, answer_units, split_sentences, table_columns, unit_embed_text

if TYPE_CHECKING:
    from index.embed import Embedder

__all__ = ["ANSWER_PASSAGES", "Answer", "display_text", "extract_answer", "split_sentences"]

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

LABEL_WORDS = 6
"""Longest bare line (no closing punctuation) taken for a sub-heading rather than an answer."""

FRAGMENT_WORDS = 4
"""A sentence unit of fewer words ("Bicentennial Agreement.") is a fragment: a name or a caption
the splitter cut off, close to a question that names it yet stating nothing."""

FRAGMENT_WEIGHT = 0.2
"""Taken off such a fragment (measured on dev: the same answers for 0.1-0.4 and 3-5 words)."""

# A unit that opens with one of these leans on the one before it: it
# refers back ("This", "Such") or qualifies it ("However"). Additive openers
# ("In addition", "Also") do not: their sentence stands alone.
_CONTINUES = re.compile(
    r"^(?:This|These|That|Those|It|They|Such|Thus|However|Likewise|Therefore|In this regard|"
    r"For example|For instance)\b"
)
# Questions that ask for a figure: a count, an amount, a share, a rate, a year.
_ASKS_NUMBER = re.compile(
    r"\b(?:how (?:many|much|often)|what (?:share|percentage|proportion|fraction|amount|number|year)|"
    r"which year|in what year|percent\w*|budget\w*|rate|figures?|amount|numbers?|coverage|"
    r"cu[aá]nt[oa]s?|porcentaje|presupuesto|tasa|cobertura|qu[eé] a[nñ]o)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by can could did do does for from had has have how in is it its of on or that the "
    "their there these this to was were what when where which who why will with would".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # the same English stemmer as the BM25 leg

    return Stemmer.Stemmer("english")


def _stem_list(text: str) -> list[str]:
    """``text``'s word stems in order, stopwords dropped (repeats kept: BM25 counts them)."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return _stemmer().stemWords(words) if words else []


def _stems(text: str) -> set[str]:
    return set(_stem_list(text))


BM25_K1 = 1.2
BM25_B = 0.75  # the usual BM25 constants (bm25s' defaults)


def _bm25(terms: set[str], texts: list[str]) -> np.ndarray:
    """BM25 of each text for the query stems, with document frequencies among these texts, scaled to [0, 1].

    bm25s (the library of the retriever's BM25 leg) scores a throw-away index of
    the candidates: their document frequencies, not the corpus', are what tells
    a candidate's distinctive words from the ones every candidate shares.
    """
    import bm25s

    stems = [_stem_list(t) for t in texts]
    if not terms or not any(stems):
        return np.zeros(len(texts))
    model = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
    model.index(stems, show_progress=False)
    out = np.asarray(model.get_scores(sorted(terms)), dtype=float)
    top = out.max()
    return out / top if top > 0 else out


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


def extract_answer(
    query: str,
    hits: Sequence[Hit],
    query_vector: np.ndarray,
    embedder: Embedder,
    min_score: float,
    passages: int = ANSWER_PASSAGES,
    cache: MutableMapping[str, np.ndarray] | None = None,
    units: Mapping[str, list[Unit]] | None = None,
    lexical: bool | str = True,
) -> Answer | None:
    """The best answer unit of the top ``passages`` hits, or None if none reaches ``min_score``.

    A query that names a section by number ("priority action 2.6") is
    answered from that section whatever the score: the section exists and
    the user asked for it, while a question made of a number and "say"
    shares little meaning with any sentence.

    ``query_vector`` is the query's embedding, computed once per request by
    the retriever (``Retriever.encode_query``) and shared with the dense leg.
    ``units`` (passage id -> its answer units) and ``cache`` (passage id ->
    their vectors) come from the index, filled at build time; a passage
    missing from them is cut and embedded here (``embedder``). ``lexical``
    says which words the candidates are matched with: True, the query's own;
    a string, those words (a Spanish question's English translation,
    ``qa.translate``); False, none (a question in another language than the
    reports', untranslated: its words would match English text only by
    accident).
    """
    words = query if lexical is True else (lexical or None)
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
        own = list(units[p.id]) if units is not None and p.id in units else answer_units(p.text, p.start)
        gap = max(0.0, top - hit.scores.get("fused", 0.0))
        candidates.extend(_Candidate(p, rank, gap, own, i) for i in range(len(own)))
        per_passage.append((p, own))
    if not candidates:
        return None
    store = cache if cache is not None else {}
    todo = [(p, own) for p, own in per_passage if own and p.id not in store]
    fresh = [unit_embed_text(p.text[u.start - p.start : u.end - p.start], u) for p, own in todo for u in own]
    if fresh:
        vectors = embedder.encode(fresh)
        pos = 0
        for p, own in todo:
            store[p.id] = vectors[pos : pos + len(own)]
            pos += len(own)
    unit_vectors = np.vstack([store[p.id] for p, own in per_passage if own])
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
        cell = _cell(named, c.text(), unit.header) if unit.kind == "table_row" else None
        return Answer(c.text(), float(cosines[best]), p, unit.start, unit.end, unit.kind, header, cell, relevance)
    start, end = _widen(p.text, c.units, c.index, p.start)
    text = p.text[start - p.start : end - p.start]
    return Answer(text, float(cosines[best]), p, start, end, relevance=relevance)


def _choice_scores(query: str, candidates: list[_Candidate], cosines: np.ndarray, words: str | None) -> np.ndarray:
    """Cosine plus the weighted lexical (over ``words``), passage-rank and answer-kind signals of every candidate."""
    raw = [c.text() for c in candidates]
    texts = [unit_embed_text(t, c.unit) for t, c in zip(raw, candidates, strict=True)]
    scores = cosines + (LEXICAL_WEIGHT * _bm25(_stems(words), texts) if words else 0.0)
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
    return alone and "\n" not in text and len(text.split()) <= LABEL_WORDS and text.rstrip()[-1:] not in '.!?:;)"”'


def _cell(query: str, row: str, header: str) -> tuple[str, str] | None:
    """The cell of ``row`` in the column the query names (a year, "coverage rate"), if exactly one fits best."""
    columns = table_columns(header)
    cells = [c.strip() for c in row.split("\t")]
    years = set(_YEAR.findall(query))
    terms = _stems(query)
    best: list[int] = []
    top = 0.0
    for j in range(1, min(len(columns), len(cells))):  # the first column names the row
        name = columns[j]
        score = 2.0 * len(years & set(_YEAR.findall(name))) + len(terms & _stems(_YEAR.sub(" ", name)))
        if score > top:
            best, top = [j], score
        elif score == top and score > 0:
            best.append(j)
    if len(best) != 1 or not cells[best[0]]:
        return None
    return columns[best[0]], cells[best[0]]


_MARKUP = re.compile(r"\*\*|__|</?[a-zA-Z][^>]*>|(?<!\w)\*(?=\w)|(?<=\w)\*(?!\w)")


def display_text(answer: Answer) -> str:
    """The answer as a person reads it: no markdown or HTML markers, one line.

    A table row reads as its first cell, then the cell the question named
    ("Security and Citizen Protection — Annual budget amount (U.S. Dollars) 2023:
    5,864,298,531"), or every "column: value" pair. ``answer.text`` stays the
    verbatim span; this is for chat replies and the page.
    """

    def clean(text: str) -> str:
        return " ".join(_MARKUP.sub("", text).split())

    if answer.kind != "table_row" or not answer.header:
        return clean(answer.text)
    cells = [clean(c) for c in answer.text.split("\t")]
    if answer.cell is not None:
        return f"{cells[0]} — {clean(answer.cell[0])}: {clean(answer.cell[1])}"
    columns = table_columns(answer.header)
    pairs = [f"{columns[j] or '?'}: {cells[j]}" for j in range(1, min(len(columns), len(cells))) if cells[j]]
    return f"{cells[0]} — " + "; ".join(pairs) if pairs else clean(answer.text)


def _widen(text: str, units: list[Unit], i: int, offset: int) -> tuple[int, int]:
    """Sentence ``i``'s corpus span, joined to the sentence before or after it when it leans on it.

    "Likewise, this perspective is embraced..." needs the sentence before;
    "The programs are:" and a sentence followed by "However, ..." need the
    one after. One sentence is added at most, and only a sentence: the answer
    is a sentence or two.
    """

    def body(u: Unit) -> str:
        return text[u.start - offset : u.end - offset]

    unit = units[i]
    start, end = unit.start, unit.end
    if i > 0 and units[i - 1].kind == "sentence" and _CONTINUES.match(body(unit)):
        return units[i - 1].start, end
    if i + 1 < len(units) and units[i + 1].kind == "sentence":
        following = units[i + 1]
        if body(unit).endswith(":") or _CONTINUES.match(body(following)):
            return start, following.end
    return start, end
