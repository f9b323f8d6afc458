"""The wire format of the HTTP API (pydantic models).

These are the only pydantic schemas of the product: the pipeline hands
frozen dataclasses (``core.types``) to ``api.convert``, which converts them
here, so the JSON clients see can evolve without touching retrieval.
Every field carries a description and an example because chat frontends
that import OpenAPI tool servers read nothing but this schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model

from qa.filters import FILTER_MAX_CHARS, filter_specs

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_TOP_K",
    "AnswerCell",
    "AnswerOut",
    "ChatChoice",
    "ChatCitation",
    "ChatCompletion",
    "ChatCompletionRequest",
    "ChatMessage",
    "ChatMessageOut",
    "Citation",
    "DocumentGroup",
    "DocumentOut",
    "DocumentOutline",
    "ErrorBody",
    "ErrorResponse",
    "ModelList",
    "ModelOut",
    "OutlineNode",
    "PassageDetail",
    "PathElementOut",
    "Progress",
    "SearchFilters",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
    "SectionDetail",
    "SectionSummary",
    "Status",
]

MAX_QUERY_CHARS = 2000
"""Longest query accepted; a question, not a document."""
MAX_TOP_K = 50
MAX_PER_DOCUMENT = 10
"""Most results one search returns."""

_SECTION_ID = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"
_LABEL = "MEM Mexico 2024 — Institutional Strengthening › Objective 2 › Priority Action 2.6"


class _Strict(BaseModel):
    # Unknown fields are refused: a misspelt filter must not silently not filter.
    model_config = ConfigDict(extra="forbid")


_MORE_FILTERS = (
    "A section kind found in an added report (`article`, `chapter`, `pillar`...) by its number; "
    "GET /filters lists every filter and its values. An unknown name is refused with the valid ones."
)


def _describe_more(schema: dict[str, Any], description: str) -> None:
    """Document the extra names' schema (``additionalProperties``) in the OpenAPI description."""
    more = schema.get("additionalProperties")
    if isinstance(more, dict):
        more["description"] = description


class _MoreFilters(BaseModel):
    # Filters beyond the fields: kinds the generic scheme discovers in a report added after startup.
    # Their names are checked by the engine (qa.filters) when the search runs, never silently ignored.
    model_config = ConfigDict(extra="allow", json_schema_extra=lambda schema: _describe_more(schema, _MORE_FILTERS))
    __pydantic_extra__: dict[str, Annotated[str | None, Field(max_length=FILTER_MAX_CHARS)]] = Field(init=False)


def _search_filters() -> type[BaseModel]:
    """One optional field per filter of ``qa.filters.filter_specs``: adding a filter there adds it here."""
    fields: dict[str, Any] = {
        spec.name: (str | None, Field(None, description=spec.help, examples=[spec.example])) for spec in filter_specs()
    }
    model = create_model("SearchFilters", __base__=_MoreFilters, **fields)
    model.__doc__ = (
        "Restrict the search to part of the corpus; unset fields do not restrict. Other names are the "
        "filters of kinds found in added reports (GET /filters)."
    )
    return model


SearchFilters = _search_filters()


class SearchRequest(_Strict):
    """A question to search the reports for."""

    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description="A question or keywords in plain language.",
        examples=["Does Mexico's drug policy include a gender perspective?"],
    )
    top_k: int = Field(10, ge=1, le=MAX_TOP_K, description="How many passages to return.", examples=[5])
    filters: SearchFilters | None = Field(None, description="Optional restrictions.")
    group_by: Literal["document"] | None = Field(
        None,
        description="`document`: also return `groups`, what each report says (its own answer and passages, or "
        "relevant: false), for questions like 'what does each report say about extradition?'.",
        examples=["document"],
    )
    per_document: int = Field(
        3,
        ge=1,
        le=MAX_PER_DOCUMENT,
        description="With group_by=document: at most this many passages per report (those that clear the cut).",
        examples=[3],
    )
    language: Literal["en", "es"] | None = Field(
        None,
        description="The question's language. Omitted: detected. A Spanish question searches the English "
        "reports through a cross-lingual model; quoted text stays verbatim English.",
        examples=["es"],
    )


class PathElementOut(BaseModel):
    """One level of a section path: what a citation names there."""

    kind: str = Field(description="Section kind, e.g. objective, priority_action.", examples=["objective"])
    number: str | None = Field(description="Its number as the report prints it, if any.", examples=["2"])
    title: str = Field(description="Its title.", examples=["Formulate, implement, evaluate ..."])


class Citation(BaseModel):
    """Where cited text stands: its section and its exact character span in the corpus file."""

    section_id: str = Field(description="Resolve it with GET /sections/{section_id}.", examples=[_SECTION_ID])
    section_ids: list[str] = Field(
        description="Every section the text belongs to, section_id first: several priority-action headings "
        "can stand over one body (MEM Prevention 2.1, 2.4, 2.5), and the text cites all of them.",
        examples=[[_SECTION_ID]],
    )
    document_id: str = Field(description="The report.", examples=["mem-mexico-2024"])
    document_title: str = Field(description="The report's full title.", examples=["Multilateral Evaluation ..."])
    label: str = Field(description="The citation as staff quote it.", examples=[_LABEL])
    path: list[PathElementOut] = Field(description="The section path, outermost first.")
    char_start: int = Field(description="Start offset of the cited text in the corpus file.", examples=[55109])
    char_end: int = Field(description="End offset (exclusive).", examples=[55564])
    pages: list[int] | None = Field(
        default=None,
        description="[first, last] pages (1-based) of the published file the text lies on; null for a report "
        "with no pages (a text, Markdown, HTML or DOCX file).",
        examples=[[12, 13]],
    )


class SearchResult(BaseModel):
    """One ranked passage."""

    rank: int = Field(description="1 for the best passage.", examples=[1])
    score: float = Field(description="Ranking score; higher is better, comparable within one query.")
    passage_id: str = Field(description="Resolve it with GET /passages/{passage_id}.", examples=["738fe2a169900f33"])
    text: str = Field(description="The passage, verbatim: the corpus file's [char_start, char_end).")
    display: str = Field(
        description="The passage as a person reads it: markdown markers dropped, lines a page break cut "
        "mid-sentence joined. For showing only; quote `text`, which the citation's span locates.",
        examples=["The country has signed several international treaties ... which complement the Palermo ..."],
    )
    url: str = Field(
        description="The reading view of the cited section with this passage highlighted (from POLICYQA_PUBLIC_URL).",
        examples=[f"http://127.0.0.1:8000/read/{_SECTION_ID}?start=55109&end=55564"],
    )
    citation: Citation
    routed: bool = Field(
        False, description="True when the passage belongs to a section the question names by number ('PA 2.6')."
    )


class AnswerCell(BaseModel):
    """The cell of a table row in the column the question names."""

    column: str = Field(description="The column's name, from the header rows.", examples=["Annual budget amount 2023"])
    value: str = Field(description="The cell, verbatim.", examples=["5,864,298,531"])


class AnswerOut(BaseModel):
    """The sentence (or two), list item or table row of the top passages that best answers the query."""

    text: str = Field(
        description="Verbatim answering text: exactly the corpus file's characters char_start to char_end "
        "(a table row keeps its tab-separated cells).",
        examples=["The country's national drug ..."],
    )
    display: str = Field(
        description="The answer as a person reads it: without markdown markers; a table row as its first cell "
        "and the named cell (or every column: value pair).",
        examples=["Security and Citizen Protection — Annual budget amount (U.S. Dollars) 2023: 5,864,298,531"],
    )
    kind: Literal["sentence", "list_item", "table_row"] = Field(
        description="What the answer is: a sentence (or two), a list item, or a table row.", examples=["sentence"]
    )
    header: str | None = Field(
        None,
        description="For a table row: its table's header rows, verbatim (tab-separated cells, one line per row).",
        examples=[None],
    )
    cell: AnswerCell | None = Field(
        None, description="For a table row whose column the question names (a year, 'coverage rate'): that cell."
    )
    score: float = Field(description="Cosine similarity of the answering text to the query.", examples=[0.71])
    passage_id: str = Field(description="The passage the answer comes from.", examples=["738fe2a169900f33"])
    citation: Citation = Field(description="Its section; char_start/char_end span the answering text.")


class DocumentGroup(BaseModel):
    """One report's side of a comparison (``group_by: document``): its own answer and passages, or nothing."""

    document_id: str = Field(examples=["mem-mexico-2024"])
    document_title: str
    short_title: str = Field(description="The report's short name, as staff cite it.", examples=["MEM Mexico 2024"])
    relevant: bool = Field(
        description="False when nothing in the report clears the answer threshold: it does not address the "
        "question, `answer` is null and `results` is empty.",
        examples=[True],
    )
    relevance: float = Field(
        description="The best cosine of the report's top passages and their sentences to the question: what "
        "the answer threshold is compared with.",
        examples=[0.62],
    )
    answer: AnswerOut | None = Field(
        description="The report's own answer (the best sentence, list item or table row of its passages, "
        "under the same threshold as the search's answer); null when the report is not relevant."
    )
    results: list[SearchResult] = Field(
        description="This report's passages that clear the relevance cut, ranked within the report (up to "
        "per_document); empty when the report is not relevant."
    )


class SearchResponse(BaseModel):
    """Ranked passages with citations, and an extractive answer when one is relevant enough."""

    query: str = Field(examples=["Does Mexico's drug policy include a gender perspective?"])
    results: list[SearchResult]
    answer: AnswerOut | None = Field(description="null when nothing is relevant enough.")
    groups: list[DocumentGroup] | None = Field(
        None,
        description="With group_by=document: what each report says, the reports that address the question "
        "first (best first), then those that do not (`relevant: false`).",
    )
    language: Literal["en", "es"] = Field(
        description="The question's language as used: the request's `language`, or the detected one.", examples=["en"]
    )
    asks_comparison: bool = Field(
        False,
        description="True when the question asks what each report says ('each report', 'compare', 'cada "
        "informe'): ask again with group_by=document for the comparison.",
        examples=[False],
    )
    took_ms: float = Field(description="Server time spent on the search, in milliseconds.", examples=[42.0])


class SectionSummary(BaseModel):
    """A section named by id, for lists of children."""

    section_id: str = Field(examples=[_SECTION_ID])
    kind: str = Field(examples=["priority_action"])
    number: str | None = Field(examples=["2.6"])
    title: str = Field(examples=["Integrate a human rights, gender, and social inclusion approach ..."])
    label: str = Field(examples=[_LABEL])


class TextPiece(BaseModel):
    """A run of a report's file, verbatim: ``text`` is the file's [char_start, char_end)."""

    char_start: int
    char_end: int
    text: str


class SectionDetail(SectionSummary):
    """A section with its full verbatim text, its path, children and passages."""

    document_id: str = Field(examples=["mem-mexico-2024"])
    document_title: str = Field(examples=["Multilateral Evaluation ..."])
    path: list[PathElementOut]
    parent_id: str | None = Field(description="The enclosing section, null at the top level.")
    char_start: int | None = Field(description="Start of the section (its heading) in the corpus file.")
    char_end: int | None = Field(description="End of the section, sub-sections included.")
    text: str = Field(description="The corpus file's [char_start, char_end), verbatim; empty if null.")
    pieces: list[TextPiece] = Field(
        default_factory=list,
        description="Only the section's own text (heading, body, sub-sections) as runs of the file, in order. "
        "Usually one run equal to `text`; a MEM objective whose priority actions stand in the annex has two, "
        "and `text` then spans the other objectives between them.",
    )
    pages: list[int] | None = Field(
        default=None, description="[first, last] pages (1-based) of the published file; null if it has none."
    )
    children: list[SectionSummary]
    passage_ids: list[str] = Field(description="Passages of the section's own text, in order.")
    ancestors: list[SectionSummary] = Field(
        default_factory=list, description="The enclosing sections, outermost first: breadcrumbs."
    )
    previous_section_id: str | None = Field(None, description="The section before it in reading order, if any.")
    next_section_id: str | None = Field(None, description="The section after it in reading order, if any.")


class PassageDetail(BaseModel):
    """One passage with its neighbours in the same document."""

    passage_id: str = Field(examples=["738fe2a169900f33"])
    text: str = Field(description="Verbatim passage text.")
    display: str = Field(description="The passage as a person reads it (see SearchResult.display).")
    citation: Citation
    section_ids: list[str] = Field(description="Every section the text belongs to, the cited one first.")
    previous_passage_id: str | None = Field(description="The passage before it in the document, if any.")
    next_passage_id: str | None = Field(description="The passage after it in the document, if any.")


class DocumentOut(BaseModel):
    """A report of the catalog."""

    id: str = Field(examples=["mem-mexico-2024"])
    title: str = Field(examples=["Multilateral Evaluation Mechanism (MEM) ..."])
    short_title: str = Field(examples=["MEM Mexico 2024"])
    publisher: str = Field(examples=["OAS / Inter-American Drug Abuse Control Commission (CICAD)"])
    date: str = Field(examples=["2024"])
    country: str = Field(examples=["Mexico"])
    kind: str = Field(examples=["evaluation report"])
    sections: int = Field(description="How many sections its tree has.", examples=[66])
    passages: int = Field(description="How many passages it was indexed as.", examples=[200])
    file_url: str = Field(
        description="The report as published (the added PDF, DOCX...; the text file for a bundled report).",
        examples=["/documents/mem-mexico-2024/file"],
    )
    pages: int = Field(default=0, description="How many pages it has (0: a format without pages).")


class OutlineNode(BaseModel):
    """A node of a report's section tree."""

    section_id: str = Field(examples=[_SECTION_ID])
    kind: str = Field(examples=["priority_action"])
    number: str | None = Field(examples=["2.6"])
    title: str = Field(examples=["Integrate a human rights, gender, and social inclusion approach ..."])
    label: str = Field(examples=["Priority Action 2.6"])
    children: list[OutlineNode]


class DocumentOutline(BaseModel):
    """A report's section tree."""

    document_id: str = Field(examples=["mem-mexico-2024"])
    title: str = Field(examples=["Multilateral Evaluation Mechanism (MEM) ..."])
    children: list[OutlineNode]


class _MoreFilterValues(BaseModel):
    # Besides the fields: the values of the filters of kinds found in added reports ("article": ["1", "2"]).
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra=lambda schema: _describe_more(schema, "Another filter's values. " + _MORE_FILTERS),
    )
    __pydantic_extra__: dict[str, list[str]] = Field(init=False)


def _filter_values() -> type[BaseModel]:
    # A kind no loaded report has is left out (GET /filters sends only the fields that are set): the report
    # ids are always there, the others only when some report has such sections.
    fields: dict[str, Any] = {
        spec.name: (
            list[str],
            Field(description=spec.help, examples=[[spec.example]])
            if spec.match == "document"
            else Field(default_factory=list, description=spec.help, examples=[[spec.example]]),
        )
        for spec in filter_specs()
    }
    model = create_model("FilterValues", __base__=_MoreFilterValues, **fields)
    model.__doc__ = (
        "What each search filter accepts: build a form from it instead of hard-coding values. A filter of a "
        "kind that no loaded report has is left out."
    )
    return model


FilterValues = _filter_values()


class Progress(BaseModel):
    """How far the startup build is: step N of M, and what it is doing."""

    step: int = Field(description="The step under way, from 1.", examples=[3])
    steps: int = Field(description="How many steps the build has, loading the index included.", examples=[8])
    doing: str = Field(description="What that step does.", examples=["embedding answer units"])


class Status(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "ready", "degraded", "building"] = Field(
        examples=["ok"],
        description="ready; degraded: serving an older intact build because the current one is damaged "
        "(see reason and fix); building: the startup build is running (503, see progress)",
    )
    build_id: str | None = Field(
        default=None,
        description="Readiness only: the build being served (its folder under data/builds).",
        examples=["20261202T031500-4242-1a2b3c4d"],
    )
    loaded_at: str | None = Field(
        default=None,
        description="Readiness only: when that build was loaded (UTC, ISO 8601); it changes on a reload.",
        examples=["2026-12-02T03:15:07Z"],
    )
    progress: Progress | None = Field(default=None, description="Building only: how far the startup build is.")
    reason: str | None = Field(
        default=None,
        description="Degraded only: which build is damaged and why.",
        examples=["build 20261202T031500-4242-1a2b3c4d is damaged: index file dense.faiss is 4096 bytes, ..."],
    )
    fix: str | None = Field(default=None, description="Degraded only: what the operator runs.")
    adapting: bool | None = Field(
        default=None,
        description="Readiness only: true while the server adapts MiniLM to the reports in the background "
        "(it serves the bundled model's build meanwhile, then reloads the adapted one); absent otherwise.",
    )
    adaptation_error: str | None = Field(
        default=None,
        description="Readiness only: why the last background adaptation of MiniLM failed (the bundled "
        "model's build goes on serving); absent once one succeeds.",
    )
    last_reload_error: str | None = Field(
        default=None,
        description="Readiness only: why the newest build in data/current was refused (the server goes on "
        "serving build_id) and what to run; absent once a build loads.",
        examples=[
            "build 20261202T041500-4343-2b3c4d5e was not loaded (still serving 20261202T031500-4242-1a2b3c4d): "
            "index file dense.faiss is 12 bytes, the build wrote 1082925; run `policyqa build` to rebuild the index"
        ],
    )


class ErrorBody(BaseModel):
    type: str = Field(description="Machine-readable kind of error.", examples=["invalid_request"])
    message: str = Field(description="What went wrong and what to fix.", examples=["query is empty; ..."])


class ErrorResponse(BaseModel):
    """Every error answers this shape (the OpenAI clients read it too)."""

    error: ErrorBody
    detail: list[dict[str, Any]] | None = Field(None, description="Field-level validation errors, if any.")


# -- OpenAI-compatible chat ------------------------------------------------------


class _ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["text"])
    text: str | None = None


class ChatMessage(BaseModel):
    """An OpenAI chat message; only user messages are read."""

    model_config = ConfigDict(extra="allow")
    role: str = Field(examples=["user"])
    content: str | list[_ContentPart] | None = Field(None, examples=["What does priority action 2.6 say?"])

    def text(self) -> str:
        """The message's text, content parts joined."""
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """An OpenAI chat completion request; sampling options are accepted and ignored."""

    # Clients send temperature, max_tokens, stream_options...: accepted, not used.
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {"model": "policyqa", "messages": [{"role": "user", "content": "What does priority action 2.6 say?"}]}
            ]
        },
    )
    model: str = Field("policyqa", description="Must be policyqa (see GET /v1/models).", examples=["policyqa"])
    messages: list[ChatMessage] = Field(min_length=1, description="The last user message is the question.")
    stream: StrictBool = Field(False, description="Stream server-sent events like OpenAI (true or false, not 0/1).")


class ChatCitation(BaseModel):
    """A numbered source of the reply: what [n] in the content refers to."""

    index: int = Field(description="n of [n] in the reply.", examples=[1])
    passage_id: str = Field(examples=["738fe2a169900f33"])
    section_id: str = Field(examples=[_SECTION_ID])
    document_id: str = Field(examples=["mem-mexico-2024"])
    label: str = Field(examples=[_LABEL])
    char_start: int = Field(description="Start of the cited span in the corpus file.", examples=[55109])
    char_end: int = Field(description="End of the cited span (exclusive).", examples=[55209])
    pages: list[int] | None = Field(default=None, description="[first, last] pages (1-based), if it has pages.")


class ChatMessageOut(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatMessageOut
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    """An OpenAI chat completion, plus the structured ``citations`` of the reply."""

    id: str = Field(examples=["chatcmpl-3f2a9c"])
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(description="Unix time.", examples=[1767225600])
    model: str = Field(examples=["policyqa"])
    choices: list[ChatChoice]
    citations: list[ChatCitation] = Field(description="The reply's numbered sources, in order.")


class ModelOut(BaseModel):
    id: str = Field(examples=["policyqa"])
    object: Literal["model"] = "model"
    created: int = Field(examples=[1767225600])
    owned_by: str = Field(examples=["policyqa"])


class ModelList(BaseModel):
    """The models this server offers: one."""

    object: Literal["list"] = "list"
    data: list[ModelOut]
