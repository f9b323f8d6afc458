"""Retrieval metrics, computed by ir-measures (pytrec_eval underneath) from TREC-style runs and qrels.

Three relevance judgements, one per question of what "right" means:

- evidence (passage level): a passage is relevant if it covers an evidence
  quote (same file, and its ``[start, end)`` overlaps at least half of the
  quote; containing it is the common case). ``hit@k`` is ir-measures'
  ``Success@k`` on this run.
- citation (passage level): a passage is relevant if one of its sections is
  a gold section, exactly (an ancestor does not count). ``cit@1`` is
  ``Success@1``: the top passage cites a gold section.
- section (section level): the gold sections are relevant. The section run
  ranks sections by the first passage citing them (a passage cites all its
  ``section_ids``); ``mrr@10``, ``ndcg@10``, ``r@5`` and ``r@10`` are
  ``RR@10``, ``nDCG@10``, ``R@5`` and ``R@10`` on it.

Passage-level judgements are made from spans, not from a fixed list of
passage ids, so a pool of candidates is judged: the whole index in process,
the retrieved passages over HTTP. ``Success@k`` only asks whether a relevant
passage is ranked, so both pools give the same value.

Run scores are ``1 / rank``: the retriever's own scores are not monotone in
rank (routed passages are placed first), and TREC tools sort by score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import TYPE_CHECKING

from eval.gold import EvidenceSpan, Question

if TYPE_CHECKING:
    from core.types import Passage

__all__ = [
    "DEPTH",
    "METRICS",
    "Retrieved",
    "aggregate",
    "citation_qrels",
    "covers",
    "evidence_qrels",
    "passage_run",
    "pool_by_question",
    "score",
    "section_qrels",
    "section_run",
]

METRICS: tuple[str, ...] = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "r@5", "r@10", "cit@1")
"""The reported metrics, in table order."""

DEPTH = 10
"""How many passages each question retrieves: every metric is cut at 10 or less."""


@dataclass(frozen=True, slots=True)
class Retrieved:
    """A retrieved passage as the metrics see it, whichever backend returned it."""

    passage_id: str
    document_id: str
    section_ids: tuple[str, ...]
    label: str
    start: int
    end: int

    @classmethod
    def of(cls, passage: Passage, span: tuple[int, int] | None = None) -> Retrieved:
        """``passage`` as the metrics see it; with ``span`` (corpus offsets), only that stretch of it: an answer."""
        start, end = span if span is not None else (passage.start, passage.end)
        return cls(passage.id, passage.document_id, passage.section_ids, passage.label, start, end)


def covers(passage: Retrieved, span: EvidenceSpan) -> bool:
    """Whether ``passage`` covers the evidence ``span``.

    Half the quote is enough: a chunk boundary may cut a long quote, and a
    passage holding most of the answer is a useful hit. A heading quote is
    covered by any passage citing its section.
    """
    if passage.document_id != span.document_id:
        return False
    if span.in_heading:
        return span.section_id in passage.section_ids
    overlap = min(passage.end, span.end) - max(passage.start, span.start)
    return 2 * overlap >= span.end - span.start


def passage_run(ranked: Mapping[str, Sequence[Retrieved]]) -> list[tuple[str, str, int, float]]:
    """The passage-level run as ``(query_id, passage_id, rank, score)`` rows."""
    return [(qid, r.passage_id, i, 1.0 / i) for qid, hits in ranked.items() for i, r in enumerate(hits, 1)]


def section_run(ranked: Mapping[str, Sequence[Retrieved]]) -> list[tuple[str, str, int, float]]:
    """The section-level run: sections in the order of the first passage citing them."""
    rows: list[tuple[str, str, int, float]] = []
    for qid, hits in ranked.items():
        order = list(dict.fromkeys(sid for r in hits for sid in r.section_ids))
        rows.extend((qid, sid, i, 1.0 / i) for i, sid in enumerate(order, 1))
    return rows


def pool_by_question(
    ranked: Mapping[str, Sequence[Retrieved]], pool: Iterable[Retrieved]
) -> dict[str, list[Retrieved]]:
    """Candidates to judge per question: the shared pool plus whatever each question retrieved."""
    shared = {r.passage_id: r for r in pool}
    out: dict[str, list[Retrieved]] = {}
    for qid, hits in ranked.items():
        mine = dict(shared)
        mine.update((r.passage_id, r) for r in hits)
        out[qid] = list(mine.values())
    return out


def evidence_qrels(
    questions: Sequence[Question],
    spans: Mapping[str, Sequence[EvidenceSpan]],
    candidates: Mapping[str, Sequence[Retrieved]],
) -> list[tuple[str, str, int]]:
    """Passage-level qrels ``(query_id, passage_id, 1)``: the candidates covering an evidence quote."""
    return [
        (q.id, r.passage_id, 1)
        for q in questions
        for r in candidates.get(q.id, ())
        if any(covers(r, s) for s in spans[q.id])
    ]


def citation_qrels(
    questions: Sequence[Question], candidates: Mapping[str, Sequence[Retrieved]]
) -> list[tuple[str, str, int]]:
    """Passage-level qrels: the candidates citing a gold section."""
    return [
        (q.id, r.passage_id, 1)
        for q in questions
        for r in candidates.get(q.id, ())
        if set(r.section_ids) & set(q.gold_sections)
    ]


def section_qrels(questions: Sequence[Question]) -> list[tuple[str, str, int]]:
    """Section-level qrels: each gold section with relevance 1."""
    return [(q.id, sid, 1) for q in questions for sid in q.gold_sections]


def _calc(
    measures: Mapping[str, str], qrels: list[tuple[str, str, int]], run: list[tuple[str, str, int, float]]
) -> dict[str, dict[str, float]]:
    """Per-query values of ``measures`` (our name -> ir-measures name) from ir-measures."""
    import ir_measures

    by_measure = {ir_measures.parse_measure(m): name for name, m in measures.items()}
    out: dict[str, dict[str, float]] = {}
    for metric in ir_measures.iter_calc(
        list(by_measure),
        [ir_measures.Qrel(q, d, rel) for q, d, rel in qrels],
        [ir_measures.ScoredDoc(q, d, s) for q, d, _, s in run],
    ):
        out.setdefault(metric.query_id, {})[by_measure[metric.measure]] = float(metric.value)
    return out


def score(
    questions: Sequence[Question],
    ranked: Mapping[str, Sequence[Retrieved]],
    spans: Mapping[str, Sequence[EvidenceSpan]],
    pool: Iterable[Retrieved] = (),
) -> dict[str, dict[str, float]]:
    """Every metric of ``METRICS`` for every question, by question id.

    A question that pytrec_eval leaves out (nothing retrieved, or no judged
    relevant passage in the pool) scores 0 on that metric: it is a miss,
    and dropping it would flatter the average.
    """
    ranked = {q.id: list(ranked.get(q.id, ())) for q in questions}
    judged = pool_by_question(ranked, pool)
    passages = passage_run(ranked)
    values: dict[str, dict[str, float]] = {q.id: dict.fromkeys(METRICS, 0.0) for q in questions}
    parts = (
        ({f"hit@{k}": f"Success@{k}" for k in (1, 3, 5, 10)}, evidence_qrels(questions, spans, judged), passages),
        ({"cit@1": "Success@1"}, citation_qrels(questions, judged), passages),
        (
            {"mrr@10": "RR@10", "ndcg@10": "nDCG@10", "r@5": "R@5", "r@10": "R@10"},
            section_qrels(questions),
            section_run(ranked),
        ),
    )
    for measures, qrels, run in parts:
        for qid, got in _calc(measures, qrels, run).items():
            values[qid].update(got)
    return values


def aggregate(per_query: Mapping[str, Mapping[str, float]], qids: Iterable[str]) -> dict[str, float]:
    """Mean of each metric over ``qids`` (NaN-free: an empty group gives 0)."""
    ids = list(qids)
    return {m: fmean(per_query[q][m] for q in ids) if ids else 0.0 for m in METRICS}
