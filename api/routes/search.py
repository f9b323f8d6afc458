"""``/search``: cited passages and an extractive answer, as POST (JSON body) and GET (query string)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from api.convert import search_response
from api.deps import INPUT_ERRORS, Ready
from api.schemas import MAX_PER_DOCUMENT, MAX_QUERY_CHARS, MAX_TOP_K, SearchFilters, SearchRequest, SearchResponse
from qa.filters import FilterSpec, filter_names, with_filter_parameters

__all__ = ["router"]

router = APIRouter()

_SEARCH_DESCRIPTION = (
    "Finds the passages of the drug-policy reports that best answer a question, best first. "
    "Each result carries its exact citation: the section id (resolve it with GET /sections/{section_id}), "
    "the report, the typed section path (thematic area, objective, priority action...) and the character "
    "span of the text in the corpus file. `answer` is the best sentence or two of the top passages, with "
    "its own citation span, or null when nothing is relevant enough. Filters restrict the search to a "
    "report, a MEM thematic area, or one numbered section by kind (objective, priority action, recommendation, "
    "goal...); a filter value that matches nothing "
    "is refused with the list of valid values (GET /filters lists them). A report added later may bring its "
    "own numbered kinds ('article', 'chapter'): they filter by their name too, as a `filters` field or a "
    "query parameter of GET. `group_by: document` adds `groups`, "
    "what each report says: the question asked of each report alone, with the report's own `answer` and "
    "passages, or `relevant: false` (no answer, no passages) for a report that does not address it. "
    "`asks_comparison` says when the question asks for that ('what does each report say about ...'). "
    "Questions may be in English or Spanish: `language` in the "
    "response says which was used (detected, or the request's `language`); cited text is always the "
    "reports' verbatim English."
)


@router.post(
    "/search",
    operation_id="search",
    summary="Search the reports (cited passages and an extractive answer)",
    description=_SEARCH_DESCRIPTION,
    response_model=SearchResponse,
    responses=INPUT_ERRORS,
    tags=["search"],
)
def search_post(body: SearchRequest, loaded: Ready) -> SearchResponse:
    return search_response(
        loaded, body.query, body.top_k, body.filters, body.group_by, body.per_document, body.language
    )


def _filter_query(spec: FilterSpec) -> tuple[Any, None]:
    """A filter as a query parameter of GET /search."""
    return Annotated[str | None, Query(description=spec.help, examples=[spec.example])], None


@router.get(
    "/search",
    operation_id="search_get",
    summary="Search the reports (query string form)",
    description=_SEARCH_DESCRIPTION + " Same as POST /search, for browsers and simple clients.",
    response_model=SearchResponse,
    responses=INPUT_ERRORS,
    tags=["search"],
)
@partial(with_filter_parameters, parameter=_filter_query)
def search_get(
    loaded: Ready,
    request: Request,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_CHARS,
            description="The question.",
            examples=["Does Mexico have a national drug observatory?"],
        ),
    ],
    top_k: Annotated[int, Query(ge=1, le=MAX_TOP_K, description="How many passages.", examples=[5])] = 10,
    group_by: Annotated[
        Literal["document"] | None,
        Query(description="`document`: also return what each report says (see POST).", examples=["document"]),
    ] = None,
    per_document: Annotated[
        int, Query(ge=1, le=MAX_PER_DOCUMENT, description="With group_by=document: passages per report.", examples=[3])
    ] = 3,
    language: Annotated[
        Literal["en", "es"] | None, Query(description="The question's language; omitted: detected.", examples=["es"])
    ] = None,
    **filter_values: str | None,
) -> SearchResponse:
    # A filter of a kind found in a report added after startup ("article") has no parameter of its own:
    # it comes as a query parameter named as the filter.
    later = {k: v for k, v in request.query_params.items() if k in filter_names() and k not in filter_values}
    # Validated through the same model as the body, so both forms refuse the same input.
    filters = SearchFilters(**filter_values, **later)
    request = SearchRequest(query=q, top_k=top_k, group_by=group_by, per_document=per_document, language=language)
    return search_response(
        loaded, request.query, top_k, filters, request.group_by, request.per_document, request.language
    )
