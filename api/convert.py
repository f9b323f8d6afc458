"""Pipeline dataclasses (``core.types``) to wire schemas (``api.schemas``), and the search every surface shares.

REST, chat and MCP call ``search_response`` and the lookups below, so that
one question or id gets the same cited text, and the same errors, everywhere.
"""

from __future__ import annotations

import time

from api.deps import Loaded
from api.schemas import (
    AnswerCell,
    AnswerOut,
    Citation,
    DocumentGroup,
    DocumentOut,
    DocumentOutline,
    FilterValues,
    OutlineNode,
    PassageDetail,
    PathElementOut,
    SearchFilters,
    SearchResponse,
    SearchResult,
    SectionDetail,
    SectionSummary,
    TextPiece,
)
from core.errors import NotFoundError, shown
from core.types import Answer, Filters, Hit, Passage, PathElement, Section
from index.chunk import make_label
from qa.compare import ReportView, asks_comparison, compare_reports
from qa.display import display_passage, display_text

__all__ = [
    "answer_out",
    "citation",
    "document_list",
    "document_outline",
    "filter_values",
    "outline_node",
    "page_range",
    "passage_detail",
    "path_out",
    "reading_url",
    "search_response",
    "section_detail",
    "section_extent",
    "section_label",
    "section_pieces",
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
        pages=page_range(loaded, passage.document_id, start, end),
    )


def page_range(loaded: Loaded, document_id: str, start: int, end: int) -> list[int] | None:
    """``[first, last]`` pages of ``[start, end)`` in the report, or None when it has no pages."""
    found = loaded.retriever.index.documents[document_id].pages_of(start, end)
    return list(found) if found else None


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


def _own_spans(section: Section) -> list[tuple[int, int]]:
    return [s for sec in section.walk() for s in ((sec.heading,) if sec.heading else ()) + sec.body]


def section_extent(section: Section) -> tuple[int, int] | None:
    """From the section's first character to its last, sub-sections included."""
    spans = _own_spans(section)
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)


def section_pieces(section: Section, text: str) -> list[tuple[int, int]]:
    """The section's own text as runs of the file, in order: what belongs to it and nothing else.

    Most sections are one run. A MEM objective is two: its assessment in the
    evaluation and its priority actions in the annex, with other objectives
    between them that a reader must not take for this one's text. Runs
    separated only by white space are joined.
    """
    pieces: list[tuple[int, int]] = []
    for start, end in sorted(_own_spans(section)):
        if pieces and not text[pieces[-1][1] : start].strip():
            pieces[-1] = (pieces[-1][0], max(end, pieces[-1][1]))
        else:
            pieces.append((start, end))
    return pieces


def outline_node(section: Section) -> OutlineNode:
    return OutlineNode(
        section_id=section.id,
        kind=section.kind,
        number=section.number,
        title=section.title,
        label=section.path[-1].label,
        children=[outline_node(c) for c in section.children],
    )


def search_response(
    loaded: Loaded,
    query: str,
    top_k: int,
    filters: SearchFilters | None,
    group_by: str | None = None,
    per_document: int = 3,
    language: str | None = None,
) -> SearchResponse:
    """Retrieve, extract the answer and shape the response; runs in a worker thread.

    With ``group_by="document"`` each report is also asked on its own
    (``qa.compare``): ``groups`` holds every report's own answer and the
    passages that clear the relevance cut, or ``relevant: false`` for a
    report that says nothing on the question. ``language`` overrides the
    detected language of the question.
    """
    t0 = time.perf_counter()
    retriever = loaded.retriever
    wanted = Filters(**(filters.model_dump() if filters is not None else {}))
    answered = retriever.ask(query, k=top_k, filters=wanted, language=language)
    groups: list[DocumentGroup] | None = None
    if group_by == "document":
        comparison = compare_reports(retriever, query, per_document, wanted, answered.language)
        groups = [_group(loaded, view) for view in comparison.reports]
    return SearchResponse(
        query=query,
        results=[_result(loaded, h) for h in answered.hits],
        answer=answer_out(loaded, answered.answer),
        groups=groups,
        language=answered.language,
        asks_comparison=asks_comparison(query),
        took_ms=round((time.perf_counter() - t0) * 1000, 2),
    )


def _group(loaded: Loaded, view: ReportView) -> DocumentGroup:
    document = loaded.retriever.index.documents[view.document_id]
    return DocumentGroup(
        document_id=view.document_id,
        document_title=document.title,
        short_title=document.short_title,
        relevant=view.relevant,
        relevance=round(view.relevance, 4),
        answer=answer_out(loaded, view.answer),
        results=[_result(loaded, h) for h in view.hits],
    )


def reading_url(base_url: str, section_id: str, start: int | None = None, end: int | None = None) -> str:
    """The reading view of ``section_id`` at ``base_url`` (the public address), the span highlighted if given."""
    url = f"{base_url.rstrip('/')}/read/{section_id}"
    return url if start is None or end is None else f"{url}?start={start}&end={end}"


def _result(loaded: Loaded, h: Hit) -> SearchResult:
    p = h.passage
    return SearchResult(
        rank=h.rank,
        score=h.score,
        passage_id=p.id,
        text=p.text,
        display=display_passage(p.text),
        url=reading_url(loaded.retriever.settings.public_url, p.section_id, p.start, p.end),
        citation=citation(loaded, p, p.start, p.end),
        routed="route" in h.scores,
    )


def answer_out(loaded: Loaded, answer: Answer | None) -> AnswerOut | None:
    if answer is None:
        return None
    return AnswerOut(
        text=answer.text,
        display=display_text(answer),
        kind=answer.kind,  # type: ignore[arg-type]
        header=answer.header,
        cell=AnswerCell(column=answer.cell[0], value=answer.cell[1]) if answer.cell else None,
        score=answer.score,
        passage_id=answer.passage.id,
        citation=citation(loaded, answer.passage, answer.start, answer.end),
    )


# -- lookups ----------------------------------------------------------------------


def section_detail(loaded: Loaded, section_id: str) -> SectionDetail:
    """A section's full verbatim text (sub-sections included), path, parent, children and passages."""
    index = loaded.retriever.index
    section = index.sections.get(section_id)
    if section is None:
        raise NotFoundError(f"no section {shown(section_id)}; section ids come from search citations")
    extent = section_extent(section)
    text = loaded.texts[section.document_id]
    return SectionDetail(
        **section_summary(loaded, section).model_dump(),
        document_id=section.document_id,
        document_title=index.documents[section.document_id].title,
        path=path_out(section.path),
        parent_id=index.parents[section.id],
        char_start=extent[0] if extent else None,
        char_end=extent[1] if extent else None,
        text=text[extent[0] : extent[1]] if extent else "",
        pages=page_range(loaded, section.document_id, *extent) if extent else None,
        pieces=[TextPiece(char_start=s, char_end=e, text=text[s:e]) for s, e in section_pieces(section, text)],
        children=[section_summary(loaded, c) for c in section.children],
        passage_ids=[index.passages[i].id for i in index.section_passages.get(section.id, [])],
        ancestors=[section_summary(loaded, index.sections[a]) for a in _ancestors(index.parents, section.id)],
        previous_section_id=loaded.neighbours.get(section.id, (None, None))[0],
        next_section_id=loaded.neighbours.get(section.id, (None, None))[1],
    )


def _ancestors(parents: dict[str, str | None], section_id: str) -> list[str]:
    """The ids of the sections enclosing ``section_id``, outermost first."""
    chain: list[str] = []
    parent = parents[section_id]
    while parent is not None:
        chain.append(parent)
        parent = parents[parent]
    return chain[::-1]


def passage_detail(loaded: Loaded, passage_id: str) -> PassageDetail:
    """One passage with its citation and the ids of its neighbours in the same report."""
    index = loaded.retriever.index
    i = index.passage_index.get(passage_id)
    if i is None:
        raise NotFoundError(f"no passage {shown(passage_id)}; passage ids come from search results")
    p = index.passages[i]

    def neighbour(j: int) -> str | None:
        # Passages are stored in document order, documents one after another.
        inside = 0 <= j < len(index.passages) and index.passages[j].document_id == p.document_id
        return index.passages[j].id if inside else None

    return PassageDetail(
        passage_id=p.id,
        text=p.text,
        display=display_passage(p.text),
        citation=citation(loaded, p, p.start, p.end),
        section_ids=list(p.section_ids),
        previous_passage_id=neighbour(i - 1),
        next_passage_id=neighbour(i + 1),
    )


def document_list(loaded: Loaded) -> list[DocumentOut]:
    """The catalog, with how many sections and passages each report has."""
    index = loaded.retriever.index
    sections: dict[str, int] = {}
    for s in index.sections.values():
        sections[s.document_id] = sections.get(s.document_id, 0) + 1
    passages: dict[str, int] = {}
    for p in index.passages:
        passages[p.document_id] = passages.get(p.document_id, 0) + 1
    return [
        DocumentOut(
            id=d.id,
            title=d.title,
            short_title=d.short_title,
            publisher=d.publisher,
            date=d.date,
            country=d.country,
            kind=d.kind,
            sections=sections.get(d.id, 0),
            passages=passages.get(d.id, 0),
            file_url=f"/documents/{d.id}/file",
            pages=len(d.pages),
        )
        for d in index.documents.values()
    ]


def filter_values(loaded: Loaded) -> FilterValues:
    """What each search filter accepts, from the loaded index."""
    return FilterValues(**loaded.retriever.valid_filter_values())


def document_outline(loaded: Loaded, document_id: str) -> DocumentOutline:
    """One report's section tree."""
    index = loaded.retriever.index
    document = index.documents.get(document_id)
    if document is None:
        raise NotFoundError(f"no document {shown(document_id)}; valid: {', '.join(sorted(index.documents))}")
    return DocumentOutline(
        document_id=document.id,
        title=document.title,
        children=[outline_node(r) for r in index.roots if r.document_id == document_id],
    )
