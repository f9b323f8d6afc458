"""Comparison: what each report says on one question, and which reports say nothing.

Staff ask one question of every report at once ("What does each report say
about extradition?") to set them side by side. ``compare_reports`` asks the
question of each report on its own (the report as a filter, through
``Retriever.ask``), so every report gets its own answer under the same
calibrated threshold as a plain search (``answer_min_score``), and a report
whose text clears nothing is marked not relevant instead of showing its
three least irrelevant paragraphs.

The question is asked without the comparison's own words: "each report",
"compare", "qué dice cada informe" (``topic_of``) carry no topic, and
"report" in the question matches every report's "the report notes ...".

Relevance of a passage is what the answer threshold reads
(``qa.answer``): the best cosine to the question of the passage itself and
of its answer units (sentences, list items, table rows). A report is
relevant when its answer clears the threshold, i.e. when one of its top
``DECISION_PASSAGES`` passages does; the passages shown are those whose own
relevance clears the threshold less ``PASSAGE_MARGIN`` (measured on
``eval/compare.jsonl``'s dev split, see ``eval/compare.py`` and the README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.errors import InvalidQueryError
from core.types import Answer, Filters, Hit

if TYPE_CHECKING:
    from qa.retrieve import Retriever

__all__ = [
    "PASSAGE_MARGIN",
    "Comparison",
    "ReportView",
    "asks_comparison",
    "compare_reports",
    "passage_relevance",
    "topic_of",
]

PASSAGE_MARGIN = 0.05
"""How far below the answer threshold a relevant report's passage may score and still be shown
(the passage holding the answer always shows). Measured on ``eval/compare.jsonl``'s dev split (17
questions; precision / recall of the passages shown against those about the topic in a relevant
report, ``eval/compare.py``): margin 0 0.724 / 0.884, 0.05 0.697 / 0.968 (F1 0.810, the best),
0.10 0.681 / 0.989, every top passage 0.674 / 1.000. The report cut itself is the answer
threshold: on the same pairs (English) 0.45 0.721 / 0.886, 0.498 0.756 / 0.886, 0.55 0.824 /
0.800."""

DECISION_PASSAGES = 3
"""A report's relevance is read on its top passages, as ``qa.answer.DECISION_PASSAGES``."""

# The comparison's own words, English and Spanish. Measured on the gold sets' dev questions (see
# ``eval/compare.py``): it fires on the comparison questions and on none of the others.
_ASKS = re.compile(
    r"\b(?:each|every|all(?: the| five)?|both|the different|the various) (?:of the )?(?:reports?|documents?|sources?)\b"
    r"|\bcompar(?:e|es|ed|ing|ison)\b|\bside by side\b|\bacross (?:the )?(?:reports|documents)\b"
    r"|\b(?:how|what) (?:do|did) (?:the|all the|these) (?:reports|documents)\b"
    r"|\bcada (?:uno de los )?(?:informes?|documentos?|reportes?)\b|\bcompar(?:a|e|ar|aci[oó]n)\b"
    r"|\btodos los (?:informes|documentos|reportes)\b|\blos (?:distintos|diferentes) (?:informes|documentos)\b",
    re.IGNORECASE,
)
# Leading phrasings that carry no topic: "What does each report say about", "How do the reports
# compare on", "¿Qué dice cada informe sobre".
_FRAME = re.compile(
    r"^\s*¿?\s*(?:"
    r"(?:what|how) (?:do|does|did) (?:each|every|all|the)(?: of the)? (?:reports?|documents?|sources?|country)"
    r"(?: \w+)?? (?:say|says|said|report|reported|tell|treat|judge|cover|address|compare)\w*"
    r"(?: (?:about|on|regarding|of))?"
    r"|compare (?:what )?(?:the|each|all)(?: the)? (?:reports?|documents?)(?: say)?(?: (?:about|on))?"
    r"|(?:qu[eé]|c[oó]mo) (?:dice|dicen|trata|tratan|aborda|abordan) (?:cada|los|todos los)(?: \w+)? "
    r"(?:informes?|documentos?|reportes?)(?: (?:sobre|acerca de|de))?"
    r")\s+",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ReportView:
    """One report's side of a comparison."""

    document_id: str
    hits: tuple[Hit, ...]
    """The passages shown: those clearing the passage cut, best first; none when not relevant."""
    answer: Answer | None
    """The report's own answer, None when nothing in it clears the answer threshold."""
    relevance: float
    """The best relevance of its top passages (what the threshold is compared with)."""
    passage_scores: tuple[float, ...]
    """Each shown passage's relevance, in the order of ``hits``."""

    @property
    def relevant(self) -> bool:
        return self.answer is not None


@dataclass(frozen=True, slots=True)
class Comparison:
    """A question asked of every report: the reports that speak (best first), then those that do not."""

    topic: str
    language: str
    reports: tuple[ReportView, ...]


def asks_comparison(query: str) -> bool:
    """Whether the question asks for a comparison of the reports ("each report", "compare", "cada informe")."""
    return bool(_ASKS.search(query))


def topic_of(query: str) -> str:
    """The question without its comparison frame ("What does each report say about extradition?" -> "extradition").

    The question itself when no frame is found or nothing would be left.
    """
    rest = _FRAME.sub("", query, count=1).strip(" ?¿")
    return rest if len(rest) >= 3 and rest != query.strip(" ?¿") else query


def passage_relevance(retriever: Retriever, hit: Hit, vector: np.ndarray, language: str) -> float:
    """The best cosine to the question of ``hit``'s passage and of its answer units (what the threshold reads)."""
    scores = [hit.scores["dense"]] if "dense" in hit.scores else []
    units = retriever.units(language).vectors.get(hit.passage.id)
    if units is not None and len(units):
        scores.append(float(np.max(units @ vector)))
    return max(scores) if scores else float("-inf")


def compare_reports(
    retriever: Retriever,
    query: str,
    per_document: int = 3,
    filters: Filters | None = None,
    language: str | None = None,
    margin: float = PASSAGE_MARGIN,
) -> Comparison:
    """Ask ``query`` of each report on its own: its answer, its passages that clear the cut, or nothing.

    ``filters`` other than the report apply inside every report (a report
    they match nothing in is left out); a ``document`` filter compares that
    report alone. The reports come relevant first, by relevance.
    """
    q = retriever.check_query(query)
    lang = retriever.language_of(q, language)
    topic = topic_of(q)
    f = filters or Filters()
    settings = retriever.settings
    threshold = settings.answer_min_score if lang == "en" else settings.answer_min_score_multilingual
    documents = [f["document"]] if "document" in f else list(retriever.index.documents)
    views: list[ReportView] = []
    vector = retriever.encode_query(topic, lang)
    for document_id in documents:
        try:
            answered = retriever.ask(
                topic, k=max(per_document, DECISION_PASSAGES), filters=f.replace(document=document_id), language=lang
            )
        except InvalidQueryError:
            continue  # the other filters match nothing in this report (a MEM area, say)
        if not answered.hits:
            continue
        scores = [passage_relevance(retriever, h, vector, lang) for h in answered.hits]
        relevance = max(scores[:DECISION_PASSAGES])
        shown: list[tuple[Hit, float]] = []
        if answered.answer is not None:
            cut = threshold - margin
            holder = answered.answer.passage.id
            shown = [
                (h, s)
                for h, s in zip(answered.hits[:per_document], scores, strict=False)
                if s >= cut or h.passage.id == holder or "route" in h.scores
            ]
        views.append(
            ReportView(
                document_id,
                tuple(h for h, _ in shown),
                answered.answer,
                relevance,
                tuple(s for _, s in shown),
            )
        )
    views.sort(key=lambda v: (not v.relevant, -v.relevance))
    return Comparison(topic, lang, tuple(views))
