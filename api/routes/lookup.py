"""Lookups: a citation's section, a passage with its neighbours, the catalog and a report's outline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.convert import citation, outline_node, path_out, section_extent, section_summary
from api.deps import ERRORS, LOOKUP_ERRORS, Ready
from api.schemas import DocumentOut, DocumentOutline, PassageDetail, SectionDetail
from qa.errors import NotFoundError

__all__ = ["router"]

router = APIRouter()


@router.get(
    "/sections/{section_id:path}",
    operation_id="get_section",
    summary="Resolve a citation's section id to its full text",
    description=(
        "Returns the section's full verbatim text (heading and sub-sections included) with its character "
        "span in the corpus file, its typed path, its child sections and the ids of the passages of its "
        "own text. Section ids contain slashes; send them as they are."
    ),
    response_model=SectionDetail,
    responses=LOOKUP_ERRORS,
    tags=["lookup"],
)
def get_section(
    loaded: Ready,
    section_id: Annotated[
        str,
        Path(
            description="A section id from a citation.",
            examples=["mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"],
        ),
    ],
) -> SectionDetail:
    index = loaded.retriever.index
    section = index.sections.get(section_id)
    if section is None:
        raise NotFoundError(f"no section {section_id!r}; section ids come from search citations")
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
        children=[section_summary(loaded, c) for c in section.children],
        passage_ids=[index.passages[i].id for i in index.section_passages.get(section.id, [])],
    )


@router.get(
    "/passages/{passage_id}",
    operation_id="get_passage",
    summary="Fetch one passage with its neighbours",
    description="Returns the passage's verbatim text and citation, and the ids of the passages before and "
    "after it in the same report, to read on.",
    response_model=PassageDetail,
    responses=LOOKUP_ERRORS,
    tags=["lookup"],
)
def get_passage(
    loaded: Ready,
    passage_id: Annotated[str, Path(description="A passage id from a search result.", examples=["738fe2a169900f33"])],
) -> PassageDetail:
    index = loaded.retriever.index
    i = index.passage_index.get(passage_id)
    if i is None:
        raise NotFoundError(f"no passage {passage_id!r}; passage ids come from search results")
    p = index.passages[i]

    def neighbour(j: int) -> str | None:
        # Passages are stored in document order, documents one after another.
        inside = 0 <= j < len(index.passages) and index.passages[j].document_id == p.document_id
        return index.passages[j].id if inside else None

    return PassageDetail(
        passage_id=p.id,
        text=p.text,
        citation=citation(loaded, p, p.start, p.end),
        section_ids=list(p.section_ids),
        previous_passage_id=neighbour(i - 1),
        next_passage_id=neighbour(i + 1),
    )


@router.get(
    "/documents",
    operation_id="list_documents",
    summary="List the reports",
    description="The catalog: every report's id (usable as the `document` filter), titles, publisher, date, "
    "and how many sections and passages it has.",
    response_model=list[DocumentOut],
    responses=ERRORS,
    tags=["lookup"],
)
def list_documents(loaded: Ready) -> list[DocumentOut]:
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
        )
        for d in index.documents.values()
    ]


@router.get(
    "/documents/{document_id}/outline",
    operation_id="get_outline",
    summary="A report's section tree",
    description="The nested sections of one report, each with its id (for GET /sections/{section_id}), kind, "
    "number and title.",
    response_model=DocumentOutline,
    responses=LOOKUP_ERRORS,
    tags=["lookup"],
)
def getoutline_node(
    loaded: Ready,
    document_id: Annotated[str, Path(description="A document id from GET /documents.", examples=["mem-mexico-2024"])],
) -> DocumentOutline:
    index = loaded.retriever.index
    document = index.documents.get(document_id)
    if document is None:
        raise NotFoundError(f"no document {document_id!r}; valid: {', '.join(sorted(index.documents))}")
    return DocumentOutline(
        document_id=document.id,
        title=document.title,
        children=[outline_node(r) for r in index.roots if r.document_id == document_id],
    )
