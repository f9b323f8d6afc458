"""Lookups: a citation's section, a passage with its neighbours, the catalog and a report's outline."""

from __future__ import annotations

import mimetypes
from pathlib import Path as Path_
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse

from api.convert import document_list, document_outline, filter_values, passage_detail, section_detail
from api.deps import ERRORS, LOOKUP_ERRORS, Ready
from api.schemas import DocumentOut, DocumentOutline, FilterValues, PassageDetail, SectionDetail
from core.errors import NotFoundError, shown

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
    return section_detail(loaded, section_id)


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
    return passage_detail(loaded, passage_id)


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
    return document_list(loaded)


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
def get_outline(
    loaded: Ready,
    document_id: Annotated[str, Path(description="A document id from GET /documents.", examples=["mem-mexico-2024"])],
) -> DocumentOutline:
    return document_outline(loaded, document_id)


@router.get(
    "/filters",
    operation_id="list_filter_values",
    summary="The values each search filter accepts",
    description="Report ids, MEM thematic area names, and the numbers of each numbered kind (objective, priority "
    "action, recommendation, goal..., and the kinds found in added reports: 'article'): what the `filters` of "
    "/search accept. A kind that no loaded report has is left out. Forms and chat frontends build their "
    "choices from it.",
    response_model=FilterValues,
    response_model_exclude_unset=True,
    responses=ERRORS,
    tags=["lookup"],
)
def list_filter_values(loaded: Ready) -> FilterValues:
    return filter_values(loaded)


@router.get(
    "/documents/{document_id}/file",
    operation_id="get_document_file",
    summary="The report as published",
    description="The original file of the report (the PDF, DOCX, HTML... it was added from; the text file for a "
    "bundled report) with its own content type, to check a passage in the report as published. A PDF opens at a "
    "cited page with `#page=N`.",
    response_class=FileResponse,
    responses={**LOOKUP_ERRORS, 200: {"content": {"application/pdf": {}, "text/plain": {}}}},
    tags=["lookup"],
)
def get_document_file(
    loaded: Ready,
    document_id: Annotated[str, Path(description="A document id from GET /documents.", examples=["mem-mexico-2024"])],
) -> FileResponse:
    documents = loaded.retriever.index.documents
    if document_id not in documents:
        raise NotFoundError(f"no document {shown(document_id)}; valid: {', '.join(documents)}")
    document = documents[document_id]
    name = document.original or document.file
    path = loaded.retriever.settings.corpus_dir / name
    if not path.is_file():
        raise NotFoundError(f"the file of document {shown(document_id)} is no longer in the corpus")
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    return FileResponse(path, media_type=media_type, content_disposition_type="inline", filename=Path_(name).name)
