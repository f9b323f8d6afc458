"""The API's operations: search, lookups, health and the OpenAI-compatible chat.

Operations that search or embed are plain ``def`` functions, which FastAPI
runs in its thread pool, so a search never blocks the event loop; the
loaded retriever is shared by those threads (it is read-only once loaded).
Each operation converts pipeline dataclasses into ``api.schemas`` models;
errors are raised as ``qa.errors`` types and mapped to statuses in
``api.app``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, format_sse_event

from api.schemas import (
    MAX_QUERY_CHARS,
    MAX_TOP_K,
    AnswerOut,
    ChatChoice,
    ChatCitation,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessageOut,
    Citation,
    DocumentOut,
    DocumentOutline,
    ErrorResponse,
    ModelList,
    ModelOut,
    OutlineNode,
    PassageDetail,
    PathElementOut,
    SearchFilters,
    SearchRequest,
    SearchResponse,
    SearchResult,
    SectionDetail,
    SectionSummary,
    Status,
)
from index.chunk import make_label
from qa.answer import Answer, extract_answer
from qa.errors import IndexMissingError, InvalidQueryError, NotFoundError
from qa.retrieve import Retriever
from qa.types import Filters, Passage, PathElement, Section

__all__ = ["MODEL_ID", "Loaded", "router"]

MODEL_ID = "policyqa"
"""The one model name the chat endpoint answers to."""

_CHAT_TOP_K = 5  # passages searched per chat question
_CHAT_SOURCES = 3  # numbered sources listed under a reply
_NO_ANSWER = (
    "No passage of the reports answers this closely enough. "
    "Try other words, or name a report or a section (e.g. 'priority action 2.6')."
)


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a ready server holds: the retriever and the corpus texts that citations index into."""

    retriever: Retriever
    texts: dict[str, str]
    created: int  # when the index was loaded (Unix time), the model's "created"


def _loaded(request: Request) -> Loaded:
    loaded: Loaded | None = request.app.state.loaded
    if loaded is None:
        raise IndexMissingError(request.app.state.load_error or "the index is still loading; retry shortly")
    return loaded


_Ready = Annotated[Loaded, Depends(_loaded)]

# Statuses every operation may answer besides its success, for the OpenAPI description.
_ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "The index is not loaded yet."},
}
_INPUT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    400: {"model": ErrorResponse, "description": "The body cannot be read (not UTF-8 JSON)."},
    413: {"model": ErrorResponse, "description": "The request body is over 64 KiB."},
    422: {"model": ErrorResponse, "description": "Invalid input; the message says what to fix."},
}
_LOOKUP_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"model": ErrorResponse, "description": "No such id."},
}

router = APIRouter()


# -- conversion ------------------------------------------------------------------


def _path(path: tuple[PathElement, ...]) -> list[PathElementOut]:
    return [PathElementOut(kind=el.kind, number=el.number, title=el.title) for el in path]


def _citation(loaded: Loaded, passage: Passage, start: int, end: int) -> Citation:
    index = loaded.retriever.index
    return Citation(
        section_id=passage.section_id,
        section_ids=list(passage.section_ids),
        document_id=passage.document_id,
        document_title=index.documents[passage.document_id].title,
        label=passage.label,
        path=_path(passage.path),
        char_start=start,
        char_end=end,
    )


def _section_label(loaded: Loaded, section: Section) -> str:
    return make_label(loaded.retriever.index.documents[section.document_id].short_title, section.path)


def _summary(loaded: Loaded, section: Section) -> SectionSummary:
    return SectionSummary(
        section_id=section.id,
        kind=section.kind,
        number=section.number,
        title=section.title,
        label=_section_label(loaded, section),
    )


def _extent(section: Section) -> tuple[int, int] | None:
    """From the section's first character to its last, sub-sections included."""
    spans = [s for sec in section.walk() for s in ((sec.heading,) if sec.heading else ()) + sec.body]
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)


def _outline(section: Section) -> OutlineNode:
    return OutlineNode(
        section_id=section.id,
        kind=section.kind,
        number=section.number,
        title=section.title,
        label=section.path[-1].label,
        children=[_outline(c) for c in section.children],
    )


# -- search ----------------------------------------------------------------------


def _search(loaded: Loaded, query: str, top_k: int, filters: SearchFilters | None) -> SearchResponse:
    """Retrieve, extract the answer and shape the response; runs in a worker thread."""
    t0 = time.perf_counter()
    retriever = loaded.retriever
    f = filters or SearchFilters()
    hits = retriever.search(
        query, k=top_k, filters=Filters(f.document, f.thematic_area, f.objective, f.priority_action)
    )
    answer = extract_answer(
        query, hits, retriever.embedder, retriever.settings.answer_min_score, cache=retriever.sentence_vectors
    )
    return SearchResponse(
        query=query,
        results=[
            SearchResult(
                rank=h.rank,
                score=h.score,
                passage_id=h.passage.id,
                text=h.passage.text,
                citation=_citation(loaded, h.passage, h.passage.start, h.passage.end),
            )
            for h in hits
        ],
        answer=_answer_out(loaded, answer),
        took_ms=round((time.perf_counter() - t0) * 1000, 2),
    )


def _answer_out(loaded: Loaded, answer: Answer | None) -> AnswerOut | None:
    if answer is None:
        return None
    return AnswerOut(
        text=answer.text,
        score=answer.score,
        passage_id=answer.passage.id,
        citation=_citation(loaded, answer.passage, answer.start, answer.end),
    )


_SEARCH_DESCRIPTION = (
    "Finds the passages of the drug-policy reports that best answer a question, best first. "
    "Each result carries its exact citation: the section id (resolve it with GET /sections/{section_id}), "
    "the report, the typed section path (thematic area, objective, priority action...) and the character "
    "span of the text in the corpus file. `answer` is the best sentence or two of the top passages, with "
    "its own citation span, or null when nothing is relevant enough. Filters restrict the search to a "
    "report, a MEM thematic area, an objective or a priority action; a filter value that matches nothing "
    "is refused with the list of valid values."
)


@router.post(
    "/search",
    operation_id="search",
    summary="Search the reports (cited passages and an extractive answer)",
    description=_SEARCH_DESCRIPTION,
    response_model=SearchResponse,
    responses=_INPUT_ERRORS,
    tags=["search"],
)
def search_post(body: SearchRequest, loaded: _Ready) -> SearchResponse:
    return _search(loaded, body.query, body.top_k, body.filters)


@router.get(
    "/search",
    operation_id="search_get",
    summary="Search the reports (query string form)",
    description=_SEARCH_DESCRIPTION + " Same as POST /search, for browsers and simple clients.",
    response_model=SearchResponse,
    responses=_INPUT_ERRORS,
    tags=["search"],
)
def search_get(
    loaded: _Ready,
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
    document: Annotated[str | None, Query(description="Only this document id.", examples=["mem-mexico-2024"])] = None,
    thematic_area: Annotated[
        str | None, Query(description="Only this MEM thematic area.", examples=["Prevention"])
    ] = None,
    objective: Annotated[str | None, Query(description="Only this objective number.", examples=["2"])] = None,
    priority_action: Annotated[
        str | None, Query(description="Only this priority action number.", examples=["2.6"])
    ] = None,
) -> SearchResponse:
    # Validated through the same model as the body, so both forms refuse the same input.
    filters = SearchFilters(
        document=document, thematic_area=thematic_area, objective=objective, priority_action=priority_action
    )
    return _search(loaded, SearchRequest(query=q, top_k=top_k).query, top_k, filters)


# -- lookups ---------------------------------------------------------------------


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
    responses=_LOOKUP_ERRORS,
    tags=["lookup"],
)
def get_section(
    loaded: _Ready,
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
    extent = _extent(section)
    text = loaded.texts[section.document_id]
    return SectionDetail(
        **_summary(loaded, section).model_dump(),
        document_id=section.document_id,
        document_title=index.documents[section.document_id].title,
        path=_path(section.path),
        parent_id=index.parents[section.id],
        char_start=extent[0] if extent else None,
        char_end=extent[1] if extent else None,
        text=text[extent[0] : extent[1]] if extent else "",
        children=[_summary(loaded, c) for c in section.children],
        passage_ids=[index.passages[i].id for i in index.section_passages.get(section.id, [])],
    )


@router.get(
    "/passages/{passage_id}",
    operation_id="get_passage",
    summary="Fetch one passage with its neighbours",
    description="Returns the passage's verbatim text and citation, and the ids of the passages before and "
    "after it in the same report, to read on.",
    response_model=PassageDetail,
    responses=_LOOKUP_ERRORS,
    tags=["lookup"],
)
def get_passage(
    loaded: _Ready,
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
        citation=_citation(loaded, p, p.start, p.end),
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
    responses=_ERRORS,
    tags=["lookup"],
)
def list_documents(loaded: _Ready) -> list[DocumentOut]:
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
    responses=_LOOKUP_ERRORS,
    tags=["lookup"],
)
def get_outline(
    loaded: _Ready,
    document_id: Annotated[str, Path(description="A document id from GET /documents.", examples=["mem-mexico-2024"])],
) -> DocumentOutline:
    index = loaded.retriever.index
    document = index.documents.get(document_id)
    if document is None:
        raise NotFoundError(f"no document {document_id!r}; valid: {', '.join(sorted(index.documents))}")
    return DocumentOutline(
        document_id=document.id,
        title=document.title,
        children=[_outline(r) for r in index.roots if r.document_id == document_id],
    )


# -- health ----------------------------------------------------------------------


@router.get(
    "/healthz",
    operation_id="healthz",
    summary="Liveness",
    description="Answers 200 as soon as the process serves HTTP, loaded or not.",
    response_model=Status,
    tags=["health"],
)
async def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness",
    description="Answers 200 once the index and model are loaded, 503 before (or if loading failed).",
    response_model=Status,
    responses=_ERRORS,
    tags=["health"],
)
async def readyz(loaded: _Ready) -> Status:
    return Status(status="ready")


# -- OpenAI-compatible chat ------------------------------------------------------


@router.get(
    "/v1/models",
    operation_id="list_models",
    summary="OpenAI-compatible model list",
    description="Lists the one model, `policyqa`, for OpenAI clients and chat frontends.",
    response_model=ModelList,
    responses=_ERRORS,
    tags=["openai"],
)
async def list_models(loaded: _Ready) -> ModelList:
    return ModelList(data=[ModelOut(id=MODEL_ID, created=loaded.created, owned_by=MODEL_ID)])


def _reply(loaded: Loaded, question: str) -> tuple[str, list[ChatCitation]]:
    """The reply text (answer, then numbered sources) and its citations."""
    retriever = loaded.retriever
    hits = retriever.search(question, k=_CHAT_TOP_K)
    answer = extract_answer(
        question, hits, retriever.embedder, retriever.settings.answer_min_score, cache=retriever.sentence_vectors
    )
    if answer is None:
        return _NO_ANSWER, []
    citations = [_chat_citation(1, answer.passage, answer.start, answer.end)]
    seen = {answer.passage.section_id}
    for h in hits:
        if len(citations) == _CHAT_SOURCES:
            break
        if h.passage.section_id not in seen:
            seen.add(h.passage.section_id)
            citations.append(_chat_citation(len(citations) + 1, h.passage, h.passage.start, h.passage.end))
    sources = "\n".join(f"[{c.index}] {c.label} ({c.section_id})" for c in citations)
    return f"{answer.text} [1]\n\nSources:\n{sources}", citations


def _chat_citation(n: int, p: Passage, start: int, end: int) -> ChatCitation:
    return ChatCitation(
        index=n,
        passage_id=p.id,
        section_id=p.section_id,
        document_id=p.document_id,
        label=p.label,
        char_start=start,
        char_end=end,
    )


def _question(body: ChatCompletionRequest) -> str:
    if body.model != MODEL_ID:
        raise NotFoundError(f"model {body.model!r} does not exist; valid: {MODEL_ID}")
    for message in reversed(body.messages):
        if message.role == "user":
            return message.text()
    raise InvalidQueryError("messages hold no user message; the last user message is the question")


def _stream(completion_id: str, created: int, content: str, citations: list[ChatCitation]) -> Iterator[bytes]:
    """The reply as OpenAI ``chat.completion.chunk`` events: role, content line by line, stop, [DONE]."""

    def chunk(delta: dict[str, str], finish: str | None, **extra: Any) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return format_sse_event(data_str=json.dumps(payload, ensure_ascii=False))

    yield chunk({"role": "assistant", "content": ""}, None)
    for line in content.splitlines(keepends=True):
        yield chunk({"content": line}, None)
    # The structured citations ride on the last chunk, as the reply is complete then.
    yield chunk({}, "stop", citations=[c.model_dump() for c in citations])
    yield format_sse_event(data_str="[DONE]")


@router.post(
    "/v1/chat/completions",
    operation_id="chat_completions",
    summary="OpenAI-compatible chat completion with structured citations",
    description=(
        "Answers the last user message from the reports. The reply is the extractive answer marked [1], "
        "followed by numbered sources with their citation labels and section ids. Besides the OpenAI "
        "fields the response carries `citations`: for each numbered source its passage id, section id, "
        "label and character span (the span of [1] is the answering sentence). With `stream: true` the "
        "reply comes as OpenAI server-sent events (`chat.completion.chunk`, then `data: [DONE]`); "
        "`citations` rides on the final chunk."
    ),
    response_model=ChatCompletion,
    responses={
        **_INPUT_ERRORS,
        **_LOOKUP_ERRORS,
        200: {
            "description": "The completion (JSON), or its chunks when `stream` is true.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
    tags=["openai"],
)
def chat_completions(body: ChatCompletionRequest, loaded: _Ready) -> Any:
    question = _question(body)
    content, citations = _reply(loaded, question)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if body.stream:
        return EventSourceResponse(_stream(completion_id, created, content, citations))
    completion = ChatCompletion(
        id=completion_id,
        created=created,
        model=MODEL_ID,
        choices=[ChatChoice(message=ChatMessageOut(content=content))],
        citations=citations,
    )
    return JSONResponse(completion.model_dump())
