"""The gold set: questions with their gold sections and verbatim evidence quotes.

``eval/gold.jsonl`` holds one question per line. Each evidence quote stands
verbatim in its section's text (a body span or the heading), so
``locate_evidence`` can turn it into an exact character span of the corpus
file; the hit metrics compare passages against those spans, never against
passage ids, so they stay valid when chunking changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import EvaluationError
from core.types import ParsedDocument

__all__ = [
    "GOLD_PATH",
    "GOLD_PATHS",
    "GOLD_SPANISH_PATH",
    "KINDS",
    "SPLITS",
    "Evidence",
    "EvidenceSpan",
    "Question",
    "load_gold",
    "load_gold_sets",
    "locate_evidence",
]

GOLD_PATH = Path(__file__).resolve().parent / "gold.jsonl"
"""The bundled gold set (English questions)."""

GOLD_SPANISH_PATH = Path(__file__).resolve().parent / "gold_es.jsonl"
"""Spanish questions over the same English reports, with English evidence (``language: "es"``)."""

GOLD_PATHS: tuple[Path, ...] = (GOLD_PATH, GOLD_SPANISH_PATH)
"""What ``policyqa eval`` reads by default: every language, reported apart."""

KINDS: tuple[str, ...] = ("fact", "paraphrase", "table", "gap", "section_number", "multi_section")
"""The kinds of question the gold set distinguishes (the per-kind breakdown follows them)."""

SPLITS: tuple[str, ...] = ("dev", "test")
"""``dev`` is used to tune; ``test`` (a random fifth) is looked at only to report."""

_FIELDS = ("id", "question", "kind", "document_id", "gold_sections", "evidence", "split")


@dataclass(frozen=True, slots=True)
class Evidence:
    """A verbatim quote from one section that answers the question."""

    section_id: str
    quote: str


@dataclass(frozen=True, slots=True)
class Question:
    """One gold question."""

    id: str
    question: str
    kind: str
    document_id: str
    gold_sections: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    split: str
    language: str = "en"


@dataclass(frozen=True, slots=True)
class EvidenceSpan:
    """Where an evidence quote stands in its corpus file.

    ``in_heading`` marks a quote taken from the section heading: passages
    hold body text only, so such a quote counts as covered by any passage
    citing that section (the heading is part of the passage's citation).
    """

    document_id: str
    section_id: str
    start: int
    end: int
    in_heading: bool = False


def _question(row: dict[str, object], where: str) -> Question:
    missing = [f for f in _FIELDS if f not in row]
    if missing:
        raise EvaluationError(f"{where}: missing {', '.join(missing)}")
    if row["kind"] not in KINDS:
        raise EvaluationError(f"{where}: unknown kind {row['kind']!r}; valid: {', '.join(KINDS)}")
    if row["split"] not in SPLITS:
        raise EvaluationError(f"{where}: unknown split {row['split']!r}; valid: {', '.join(SPLITS)}")
    gold = row["gold_sections"]
    evidence = row["evidence"]
    if not isinstance(gold, list) or not gold or not isinstance(evidence, list) or not evidence:
        raise EvaluationError(f"{where}: gold_sections and evidence must be non-empty lists")
    try:
        ev = tuple(Evidence(str(e["section_id"]), str(e["quote"])) for e in evidence)
    except (KeyError, TypeError) as exc:
        raise EvaluationError(f"{where}: each evidence needs section_id and quote") from exc
    if any(not e.quote.strip() for e in ev):
        raise EvaluationError(f"{where}: an evidence quote is empty")
    return Question(
        id=str(row["id"]),
        question=str(row["question"]),
        kind=str(row["kind"]),
        document_id=str(row["document_id"]),
        gold_sections=tuple(str(s) for s in gold),
        evidence=ev,
        split=str(row["split"]),
        language=str(row.get("language", "en")),
    )


def load_gold(path: Path = GOLD_PATH, splits: Iterable[str] | None = None) -> list[Question]:
    """Read and validate the gold set; keep only ``splits`` (all when None)."""
    wanted = set(SPLITS if splits is None else splits)
    unknown = wanted - set(SPLITS)
    if unknown:
        raise EvaluationError(f"unknown split {sorted(unknown)[0]!r}; valid: {', '.join(SPLITS)}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvaluationError(f"cannot read gold set {path}: {exc}") from exc
    questions: list[Question] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path.name}:{n}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise EvaluationError(f"{where}: not JSON: {exc}") from exc
        q = _question(row, where)
        if q.id in seen:
            raise EvaluationError(f"{where}: question id {q.id!r} is used twice")
        seen.add(q.id)
        if q.split in wanted:
            questions.append(q)
    return questions


def load_gold_sets(paths: Iterable[Path] = GOLD_PATHS, splits: Iterable[str] | None = None) -> list[Question]:
    """Several gold sets as one list (ids must differ across them)."""
    splits = None if splits is None else list(splits)
    questions = [q for path in paths for q in load_gold(path, splits)]
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise EvaluationError("the gold sets share question ids")
    return questions


def locate_evidence(
    questions: Iterable[Question], documents: Mapping[str, ParsedDocument]
) -> dict[str, tuple[EvidenceSpan, ...]]:
    """Each question's evidence quotes as corpus spans, by question id.

    A quote is searched only inside its own section (body spans first, then
    the heading), so a sentence repeated elsewhere in the report cannot be
    credited to the wrong place. The first occurrence within the section wins.
    """
    sections = {s.id: (doc, s) for doc in documents.values() for s in doc.walk()}
    out: dict[str, tuple[EvidenceSpan, ...]] = {}
    for q in questions:
        spans: list[EvidenceSpan] = []
        for ev in q.evidence:
            if ev.section_id not in sections:
                raise EvaluationError(f"question {q.id}: unknown section {ev.section_id!r}")
            doc, section = sections[ev.section_id]
            span = _find(doc.text, section.body, ev.quote)
            in_heading = False
            if span is None and section.heading is not None:
                span = _find(doc.text, (section.heading,), ev.quote)
                in_heading = span is not None
            if span is None:
                raise EvaluationError(f"question {q.id}: quote not found in {ev.section_id}: {ev.quote[:60]!r}")
            spans.append(EvidenceSpan(doc.document.id, section.id, span[0], span[1], in_heading))
        out[q.id] = tuple(spans)
    return out


def _find(text: str, spans: Iterable[tuple[int, int]], quote: str) -> tuple[int, int] | None:
    for start, end in spans:
        at = text.find(quote, start, end)
        if at >= 0:
            return at, at + len(quote)
    return None
