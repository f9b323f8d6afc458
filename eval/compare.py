"""Scoring the comparison view (``qa.compare``): which reports address a question, which passages show.

``eval/compare.jsonl`` holds questions asked of every report ("What does
each report say about extradition?"), each naming the reports that address
the topic (``relevant``, written from reading the reports: a report counts
when it says something about the topic itself, not when the word passes in
a list of other things) and a regular expression (``terms``) that a passage
addressing the topic matches. ``split`` is dev or test as in the gold set.

Three figures, per split:

- **reports**: precision and recall of ``relevant`` over (question, report)
  pairs, at the served threshold and at other cuts of the same relevance
  (``sweep``), to show where the cut sits;
- **passages**: among the passages a report the view calls relevant could
  show (its top ``per_document``), precision and recall of those shown
  against those matching ``terms`` in a report the gold calls relevant, for
  each margin below the threshold (``qa.compare.PASSAGE_MARGIN``);
- **trigger**: how many comparison questions ``asks_comparison`` catches,
  and how many ordinary gold questions (``eval/gold*.jsonl``) it wrongly
  flips to a comparison.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import EvaluationError
from qa.compare import asks_comparison, compare_reports

if TYPE_CHECKING:
    from eval.gold import Question
    from qa.retrieve import Retriever

__all__ = [
    "COMPARE_PATH",
    "CompareQuestion",
    "load_compare",
    "score_comparison",
    "trigger_counts",
]

COMPARE_PATH = Path(__file__).resolve().parent / "compare.jsonl"
"""The bundled comparison questions."""

CUTS = (0.35, 0.40, 0.45, 0.498, 0.55, 0.60)
"""Report-relevance cuts the sweep reports (English MiniLM cosine; 0.498 is ``answer_min_score``)."""

MARGINS = (0.0, 0.05, 0.10, 0.15, 1.0)
"""Passage margins below the threshold the sweep reports (1.0: every top passage of a relevant report)."""


@dataclass(frozen=True, slots=True)
class CompareQuestion:
    id: str
    question: str
    relevant: frozenset[str]
    terms: re.Pattern[str]
    split: str
    language: str = "en"


def load_compare(path: Path = COMPARE_PATH, splits: Iterable[str] | None = None) -> list[CompareQuestion]:
    """Read and check the comparison questions; keep only ``splits`` (all when None)."""
    wanted = set(splits) if splits is not None else {"dev", "test"}
    out: list[CompareQuestion] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = CompareQuestion(
                str(row["id"]),
                str(row["question"]),
                frozenset(row["relevant"]),
                re.compile(row["terms"], re.IGNORECASE),
                str(row["split"]),
                str(row.get("language", "en")),
            )
        except (ValueError, KeyError, TypeError, re.error) as exc:
            raise EvaluationError(f"{path.name}:{n}: {exc}") from exc
        if q.split not in ("dev", "test"):
            raise EvaluationError(f"{path.name}:{n}: unknown split {q.split!r}")
        if q.split in wanted:
            out.append(q)
    return out


def _pr(tp: int, fp: int, fn: int) -> dict[str, float]:
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def score_comparison(
    retriever: Retriever, questions: Sequence[CompareQuestion], per_document: int = 3
) -> dict[str, Any]:
    """Report- and passage-level precision/recall of the comparison view on ``questions``."""
    threshold = {"en": retriever.settings.answer_min_score, "es": retriever.settings.answer_min_score_multilingual}
    pairs: list[tuple[str, bool, bool, float]] = []  # (language, gold, predicted, relevance)
    passages: list[tuple[bool, bool, float, float]] = []  # (gold, holds the answer, score, threshold)
    wrong: list[str] = []
    for q in questions:
        comparison = compare_reports(retriever, q.question, per_document, language=q.language, margin=10.0)
        for view in comparison.reports:
            gold = view.document_id in q.relevant
            pairs.append((comparison.language, gold, view.relevant, view.relevance))
            if gold != view.relevant:
                wrong.append(f"{q.id} {view.document_id}: {'missed' if gold else 'false'} ({view.relevance:.3f})")
            holder = view.answer.passage.id if view.answer is not None else None
            for hit, score in zip(view.hits, view.passage_scores, strict=True):
                matches = gold and bool(q.terms.search(hit.passage.text))
                passages.append((matches, hit.passage.id == holder, score, threshold[comparison.language]))
    reports = _pr(
        sum(g and p for _, g, p, _ in pairs),
        sum(p and not g for _, g, p, _ in pairs),
        sum(g and not p for _, g, p, _ in pairs),
    )
    sweep = {}
    for cut in CUTS:
        english = [(g, r >= cut) for lang, g, _, r in pairs if lang == "en"]
        sweep[f"{cut:.3f}"] = _pr(
            sum(g and p for g, p in english), sum(p and not g for g, p in english), sum(g and not p for g, p in english)
        )
    margins = {}
    for m in MARGINS:
        shown = [(g, holder or s >= t - m) for g, holder, s, t in passages]
        margins[f"{m:.2f}"] = _pr(
            sum(g and p for g, p in shown), sum(p and not g for g, p in shown), sum(g and not p for g, p in shown)
        )
    return {
        "questions": len(questions),
        "pairs": len(pairs),
        "reports": reports,
        "report_cuts": sweep,
        "passage_margins": margins,
        "errors": wrong,
    }


def trigger_counts(compare: Sequence[CompareQuestion], ordinary: Sequence[Question]) -> dict[str, int]:
    """How many comparison questions ``asks_comparison`` catches, and how many ordinary ones it flips."""
    return {
        "comparison": len(compare),
        "caught": sum(asks_comparison(q.question) for q in compare),
        "ordinary": len(ordinary),
        "flipped": sum(asks_comparison(q.question) for q in ordinary),
    }
