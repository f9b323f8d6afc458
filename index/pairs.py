"""Training pairs for adapting MiniLM to the reports, built from the parsed corpus alone.

Questions staff write name things in everyday words; the reports name them in
their own institutional terms. The pairs teach the model which passages a
report's own short statements point at, without the statement's words to
lean on (``index.adapt`` trains on them):

- ``statement``: a numbered section's statement (a priority action, an
  objective, a recommendation, an alliance point, an action, an issue, a
  goal) -> passages of its section, with the statement cut out of them;
- ``cloze``: a sentence of a passage -> the passage without that sentence
  (the inverse cloze task);
- ``table``: a table's header rows -> its rows, without the header;
- ``heading``: an unnumbered section's heading -> its passages, heading cut out.

Each anchor gets one hard negative: the passage BM25 ranks first for it
among the passages of other sections. Anchors that overlap a held-out text
(the gold questions and evidence quotes, ``holdout``) are dropped: the
model never trains on what it is evaluated on. Everything is deterministic
for a given corpus, code and ``PairConfig``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.types import ParsedDocument, Passage, Section
from index.chunk import clean_text
from index.sentences import answer_units

__all__ = ["NUMBERED_KINDS", "SOURCES", "Pair", "PairConfig", "build_pairs", "normalise"]

NUMBERED_KINDS = ("objective", "priority_action", "recommendation", "alliance_point", "action", "issue", "goal")
"""Section kinds whose title is a statement of the report (what it asks, finds or recommends)."""

SOURCES = ("statement", "cloze", "table", "heading")

_WORD = re.compile(r"\w+")
_MIN_ANCHOR_WORDS = 5
_MIN_POSITIVE_WORDS = 12


@dataclass(frozen=True, slots=True)
class PairConfig:
    """How many pairs each source gives (0 turns a source off)."""

    statement_passages: int = 3
    """Passages per numbered statement."""
    cloze_sentences: int = 2
    """Sentences per passage, each against the rest of its passage."""
    table_rows: int = 0
    """Passages of rows per table, against the table's header."""
    heading_passages: int = 0
    """Passages per unnumbered section heading."""
    hard_negatives: bool = True
    seed: int = 13


@dataclass(frozen=True, slots=True)
class Pair:
    """One training example: ``anchor`` should sit closer to ``positive`` than to ``negative``."""

    anchor: str
    positive: str
    negative: str | None
    source: str


def normalise(text: str) -> str:
    """Lower-case words of ``text`` joined by one space: how anchors and held-out texts are compared."""
    return " ".join(_WORD.findall(clean_text(text).lower()))


def _cut(text: str, remove: str) -> str:
    """``text`` without ``remove`` (compared as cleaned, case-insensitively) and with spaces tidied."""
    if not remove:
        return text
    pattern = re.compile(r"\s+".join(re.escape(w) for w in remove.split()), re.IGNORECASE)
    return "\n".join(re.sub(r"\s+", " ", line).strip() for line in pattern.sub(" ", text).split("\n"))


def _body(passage: Passage) -> str:
    """The passage's embedded text without its heading context line (which carries the statement)."""
    return passage.embed_text.split("\n", 1)[1] if "\n" in passage.embed_text else passage.embed_text


def _positive(passage: Passage, body: str) -> str:
    return f"{passage.label}\n{body}"


def _words(text: str) -> int:
    return len(_WORD.findall(text))


_Raw = tuple[str, frozenset[str], str, str]
"""(anchor, sections its negative may not come from, positive, source)."""


class _Holdout:
    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = [t for t in {normalise(t) for t in texts} if t]

    def overlaps(self, anchor: str) -> bool:
        a = normalise(anchor)
        return any(t in a or a in t for t in self._texts)


def _passages_of(section: Section, by_section: dict[str, list[Passage]]) -> list[Passage]:
    own = by_section.get(section.id, [])
    if own:
        return own
    return [p for s in section.walk()[1:] for p in by_section.get(s.id, [])][:8]


def _statement_pairs(
    parsed: Sequence[ParsedDocument], by_section: dict[str, list[Passage]], config: PairConfig, numbered: bool
) -> list[_Raw]:
    """Numbered statements (``numbered``) or unnumbered headings -> their sections' passages."""
    out = []
    for doc in parsed:
        for section in doc.walk():
            if (section.number is not None and section.kind in NUMBERED_KINDS) != numbered or not section.title:
                continue
            limit = config.statement_passages if numbered else config.heading_passages
            title = clean_text(section.title)
            if limit <= 0 or _words(title) < (_MIN_ANCHOR_WORDS if numbered else 2):
                continue
            subtree = frozenset(s.id for s in section.walk())
            for p in _passages_of(section, by_section)[:limit]:
                body = _cut(_body(p), title)
                if _words(body) >= _MIN_POSITIVE_WORDS:  # the label may hold the heading too: cut it there
                    positive = _cut(_positive(p, body), title)
                    out.append((title, subtree | set(p.section_ids), positive, "statement" if numbered else "heading"))
    return out


def _cloze_pairs(
    parsed: Sequence[ParsedDocument], passages: Sequence[Passage], config: PairConfig, rng: random.Random
) -> list[_Raw]:
    texts = {d.document.id: d.text for d in parsed}
    out = []
    for p in passages:
        units = [u for u in answer_units(p.text, p.start, texts[p.document_id]) if u.kind != "table_row"]
        sentences = [clean_text(texts[p.document_id][u.start : u.end]) for u in units]
        sentences = [s for s in sentences if _words(s) >= _MIN_ANCHOR_WORDS]
        if len(sentences) < 2:
            continue
        for s in rng.sample(sentences, min(config.cloze_sentences, len(sentences))):
            body = _cut(_body(p), s)
            if _words(body) >= _MIN_POSITIVE_WORDS:
                out.append((s, frozenset(p.section_ids), _positive(p, body), "cloze"))
    return out


def _table_pairs(parsed: Sequence[ParsedDocument], passages: Sequence[Passage], config: PairConfig) -> list[_Raw]:
    texts = {d.document.id: d.text for d in parsed}
    out = []
    per_header: dict[str, int] = {}
    for p in passages:
        rows = [u for u in answer_units(p.text, p.start, texts[p.document_id]) if u.kind == "table_row" and u.header]
        if not rows:
            continue
        header = clean_text(rows[0].header)
        if per_header.get(header, 0) >= config.table_rows or _words(header) < 2:
            continue
        body = " ".join(clean_text(texts[p.document_id][u.start : u.end]) for u in rows if u.header == rows[0].header)
        if _words(body) >= 4:
            per_header[header] = per_header.get(header, 0) + 1
            out.append((header, frozenset(p.section_ids), _positive(p, body), "table"))
    return out


def _hard_negatives(
    anchors: list[str], excluded: list[frozenset[str]], passages: Sequence[Passage]
) -> list[str | None]:
    """For each anchor, the passage BM25 ranks first among passages of none of its ``excluded`` sections."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    corpus = [p.embed_text for p in passages]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    k = min(100, len(passages))  # a heading's subtree may fill the first dozens
    queries = bm25s.tokenize(anchors, stopwords="en", stemmer=stemmer, show_progress=False)
    ranked, _ = retriever.retrieve(queries, k=k, show_progress=False, n_threads=1)
    out: list[str | None] = []
    for row, sections in zip(ranked, excluded, strict=True):
        pick = next((passages[int(i)] for i in row if not sections & set(passages[int(i)].section_ids)), None)
        out.append(pick.embed_text if pick is not None else None)
    return out


def build_pairs(
    parsed: Sequence[ParsedDocument],
    passages: Sequence[Passage],
    config: PairConfig = PairConfig(),
    holdout: Iterable[str] = (),
) -> list[Pair]:
    """The training pairs of the corpus, in a fixed order, none with an anchor overlapping ``holdout``."""
    rng = random.Random(config.seed)
    by_section: dict[str, list[Passage]] = {}
    for p in passages:
        for sid in p.section_ids:
            by_section.setdefault(sid, []).append(p)
    raw = _statement_pairs(parsed, by_section, config, numbered=True)
    raw += _statement_pairs(parsed, by_section, config, numbered=False)
    raw += _cloze_pairs(parsed, passages, config, rng) if config.cloze_sentences > 0 else []
    raw += _table_pairs(parsed, passages, config) if config.table_rows > 0 else []
    held = _Holdout(holdout)
    seen: set[tuple[str, str]] = set()
    kept = []
    for anchor, owner, positive, source in raw:
        if (anchor, positive) in seen or held.overlaps(anchor):
            continue
        seen.add((anchor, positive))
        kept.append((anchor, owner, positive, source))
    if not kept:
        return []
    if config.hard_negatives:
        negatives = _hard_negatives([a for a, _, _, _ in kept], [o for _, o, _, _ in kept], passages)
    else:
        negatives = [None] * len(kept)
    return [Pair(a, pos, neg, src) for (a, _, pos, src), neg in zip(kept, negatives, strict=True)]
