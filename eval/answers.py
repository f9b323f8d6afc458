"""Answer accuracy: does the extractive answer hold the gold evidence?

Retrieval metrics ask whether the passage holding the answer is ranked; a
reader reads the answer first. For every question, the answer given (or an
abstention) is scored against the gold set:

- ``evidence``: the answer's ``[start, end)`` covers a gold evidence quote
  (at least half of it, as a passage covers one in ``eval.metrics.covers``;
  a quote from a section heading, which is never answer text, counts as held
  by an answer from that section);
- ``evidence_top3``: the same, among the questions whose evidence is in the
  top 3 passages (``hit@3`` = 1), the passages an answer may come from:
  this isolates the choice of the answer from retrieval;
- ``section``: the answer comes from a passage citing a gold section;
- ``abstain``: no answer was given (nothing close enough).

Each question's gold evidence also has a unit kind: whether the first quote
stands in a sentence, a list item or a table row (``index.sentences``), so
the figures can be read per kind of answer as well as per kind of question.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

from core.types import ParsedDocument
from eval.gold import EvidenceSpan, Question
from eval.metrics import Retrieved, covers

__all__ = ["ANSWER_METRICS", "GivenAnswer", "aggregate_answers", "evidence_units", "score_answers"]

ANSWER_METRICS: tuple[str, ...] = ("evidence", "evidence_top3", "section", "abstain")
"""The reported answer figures, in table order."""


@dataclass(frozen=True, slots=True)
class GivenAnswer:
    """An answer as the metrics see it, whichever backend gave it."""

    passage_id: str
    document_id: str
    section_ids: tuple[str, ...]
    start: int
    end: int
    kind: str
    text: str


def score_answers(
    questions: Sequence[Question],
    answers: Mapping[str, GivenAnswer | None],
    spans: Mapping[str, Sequence[EvidenceSpan]],
    per_query: Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, float]]:
    """Per question: ``evidence``, ``section``, ``abstain`` (0/1) and ``top3`` (its hit@3)."""
    out: dict[str, dict[str, float]] = {}
    for q in questions:
        a = answers.get(q.id)
        held = section = 0.0
        if a is not None:
            as_passage = Retrieved(a.passage_id, a.document_id, a.section_ids, "", a.start, a.end)
            held = float(any(covers(as_passage, s) for s in spans[q.id]))
            section = float(bool(set(a.section_ids) & set(q.gold_sections)))
        out[q.id] = {
            "evidence": held,
            "section": section,
            "abstain": float(a is None),
            "top3": float(per_query[q.id]["hit@3"] > 0),
        }
    return out


def aggregate_answers(per_question: Mapping[str, Mapping[str, float]], qids: Iterable[str]) -> dict[str, float]:
    """Means over ``qids``; ``evidence_top3`` over those with the evidence in the top 3 (``n_top3`` of them)."""
    ids = list(qids)
    top3 = [q for q in ids if per_question[q]["top3"]]

    def mean(metric: str, group: list[str]) -> float:
        return fmean(per_question[q][metric] for q in group) if group else 0.0

    return {
        "evidence": mean("evidence", ids),
        "evidence_top3": mean("evidence", top3),
        "section": mean("section", ids),
        "abstain": mean("abstain", ids),
        "n_top3": float(len(top3)),
    }


def evidence_units(
    questions: Iterable[Question],
    spans: Mapping[str, Sequence[EvidenceSpan]],
    documents: Mapping[str, ParsedDocument],
) -> dict[str, str]:
    """The answer-unit kind holding each question's first evidence quote (``sentence`` when none does)."""
    from index.sentences import answer_units

    sections = {s.id: s for doc in documents.values() for s in doc.walk()}
    out: dict[str, str] = {}
    for q in questions:
        kind = "sentence"
        for span in spans[q.id][:1]:
            text = documents[span.document_id].text
            for start, end in sections[span.section_id].body:
                if start <= span.start < end:
                    units = answer_units(text[start:end], start, text)
                    kind = next((u.kind for u in units if u.start <= span.start < u.end), kind)
        out[q.id] = kind
    return out
