"""Pipeline dataclasses (``qa.types``) to wire schemas (``api.schemas``), and the search every surface shares.

REST, chat and the other surfaces call ``search_response`` so that one
question gets the same ranked, cited passages and answer everywhere.
"""

from __future__ import annotations

import time

from api.deps import Loaded
from api.schemas import (
    AnswerOut,
    Citation,
    OutlineNode,
    PathElementOut,
    SearchFilters,
    SearchResponse,
    SearchResult,
    SectionSummary,
)
from index.chunk import make_label
from qa.types import Answer, Filters, Passage, PathElement, Section

__all__ = [
    "answer_out",
    "citation",
    "outline_node",
    "path_out",
    "search_response",
    "section_extent",
    "section_label",
    "section_summary",
]


def path_out(path: tuple[PathElement, ...]) -> list[PathElementOut]:
    return [PathElementOut(kind=el.kind, number=el.number, title=el.title) for el in path]


def citation(loaded: Loaded, passage: Passage, start: int, end: int) -> Citation:
    index = loaded.retriever.index
    return Citation(
        section_id=passage.section_id,
        section_ids=list(passage.section_ids),
        document_id=passage.document_id,
        document_title=index.documents[passage.document_id].title,
        label=passage.label,
        path=path_out(passage.path),
        char_start=start,
        char_end=end,
    )


def section_label(loaded: Loaded, section: Section) -> str:
    return make_label(loaded.retriever.index.documents[section.document_id].short_title, section.path)


def section_summary(loaded: Loaded, section: Section) -> SectionSummary:
    return SectionSummary(
        section_id=section.id,
        kind=section.kind,
        number=section.number,
        title=section.title,
        label=section_label(loaded, section),
    )


def section_extent(section: Section) -> tuple[int, int] | None:
    """From the section's first character to its last, sub-sections included."""
    spans = [s for sec in section.walk() for s in ((sec.heading,) if sec.heading else ()) + sec.body]
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)


def outline_node(section: Section) -> OutlineNode:
    return OutlineNode(
        section_id=section.id,
        kind=section.kind,
        number=section.number,
        title=section.title,
        label=section.path[-1].label,
        children=[outline_node(c) for c in section.children],
    )


def search_response(loaded: Loaded, query: str, top_k: int, filters: SearchFilters | None) -> SearchResponse:
    """Retrieve, extract the answer and shape the response; runs in a worker thread."""
    t0 = time.perf_counter()
    retriever = loaded.retriever
    f = filters or SearchFilters()
    answered = retriever.ask(
        query, k=top_k, filters=Filters(f.document, f.thematic_area, f.objective, f.priority_action)
    )
    hits, answer = answered.hits, answered.answer
    return SearchResponse(
        query=query,
        results=[
            SearchResult(
                rank=h.rank,
                score=h.score,
                passage_id=h.passage.id,
                text=h.passage.text,
                citation=citation(loaded, h.passage, h.passage.start, h.passage.end),
            )
            for h in hits
        ],
        answer=answer_out(loaded, answer),
        took_ms=round((time.perf_counter() - t0) * 1000, 2),
    )


def answer_out(loaded: Loaded, answer: Answer | None) -> AnswerOut | None:
    if answer is None:
        return None
    return AnswerOut(
        text=answer.text,
        score=answer.score,
        passage_id=answer.passage.id,
        citation=citation(loaded, answer.passage, answer.start, answer.end),
    )
