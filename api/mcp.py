"""MCP server: the reports as tools for chat assistants (official ``mcp`` SDK, stdio and streamable HTTP).

One server definition serves both transports:

- ``policyqa mcp`` runs it over stdio for desktop clients (``api.mcp_transport.run_stdio``); the
  index loads in the background, so the handshake is immediate and a tool
  called before the index is ready gets a clear "still loading" tool error;
- ``policyqa serve`` mounts it at ``/mcp`` (stateless streamable HTTP, JSON
  responses) beside REST and chat, reading the same loaded index through
  ``app.state`` at call time (``create_app``), so one process holds one model.

The transports are ``api.mcp_transport``'s, the output schemas ``api.mcp_schemas``'.
Tools return structured content validated against an output schema, plus a
text rendering that a model reading only text can still cite. Their results
and errors come from the same functions as the REST API (``api.convert`` and
``core.errors``), so a message is the same on both surfaces.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, Field, ValidationError

from api.convert import (
    document_list,
    document_outline,
    passage_detail,
    reading_url,
    search_response,
    section_detail,
)
from api.deps import Loaded
from api.mcp_schemas import DocumentsOutput, FetchOutput, SearchHit, SearchOutput
from api.schemas import (
    MAX_QUERY_CHARS,
    DocumentOutline,
    SearchFilters,
)
from api.validation import field_errors
from core.errors import NotFoundError, PolicyQAError, shown
from qa.display import page_note
from qa.filters import FILTER_MAX_CHARS, FilterSpec, describe_filters, filter_names, with_filter_parameters

__all__ = ["MCP_PATH", "SERVER_NAME", "StateSource", "create_mcp_server"]

SERVER_NAME = "policyqa"
MCP_PATH = "/mcp"
"""Where ``policyqa serve`` mounts the streamable HTTP transport."""

MAX_TOOL_TOP_K = 20  # a model reads every passage it is given: more than 20 is noise, not recall
MAX_ID_CHARS = 400  # the longest section id in the corpus is about 130 characters

StateSource = Callable[[], Loaded]
"""Returns the loaded index, or raises ``IndexMissingError`` while it loads (or if loading failed)."""


_READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)


def _filter_field(spec: FilterSpec) -> tuple[Any, None]:
    """A filter as an argument of the search tool."""
    longest = 20 if spec.match == "number" else FILTER_MAX_CHARS
    return Annotated[str | None, Field(max_length=longest, description=spec.help)], None


_INSTRUCTIONS = (
    "Search the drug-policy reports of the loaded collection (`list_documents` names them: MEM "
    "evaluations by CICAD/OAS, UNODC meeting reports, national strategies, civil-society assessments) "
    "and cite them by their own numbering: thematic area, objective and priority action; "
    "alliance point; issue, recommendation and paragraph; goal, area and objective. Call `search` with the "
    "user's question, answer only from the passages it returns, and cite each claim with the passage's "
    "label. `fetch` gives a section's full verbatim text; `list_documents` and `outline` browse by number."
)


# -- output models -------------------------------------------------------------------
# -- helpers -------------------------------------------------------------------------


async def _call(state: StateSource, fn: Callable[[Loaded], Any], error: type[Exception] = ToolError) -> Any:
    """Run ``fn`` on the loaded index in a worker thread (never on the event loop, which keeps the session alive).

    Our errors (invalid input, unknown id, index not loaded) become ``error``,
    a tool error result carrying the same message as the REST API's 4xx/503.
    """
    try:
        return await anyio.to_thread.run_sync(lambda: fn(state()))
    except PolicyQAError as exc:
        raise error(str(exc)) from exc


def _result(structured: BaseModel, text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=structured.model_dump(mode="json"),
    )


def _sources_text(out: SearchOutput) -> str:
    """Numbered sources with their labels, so a model that reads only text can still cite."""
    lines: list[str] = []
    if out.answer is not None:
        lines += [f"Answer: {out.answer.display}", f"(from {out.answer.citation.label})", ""]
    if not out.results:
        lines.append("No passage found.")
    for hit in out.results:
        lines.append(f"[{hit.rank}] {hit.label}{page_note(hit.pages)}")
        lines.append(f"    section_id: {hit.section_id}")
        lines.append(f"    {' '.join(hit.text.split())}")
    return "\n".join(lines)


# -- the server ----------------------------------------------------------------------


def _version() -> str:
    """The installed policyqa package's version (pyproject.toml), for the server's ``serverInfo``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("policyqa")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


class _Server(MCPServer):
    """``MCPServer`` whose search tool follows the filters, and whose argument errors read like REST's 422s.

    The SDK reports arguments that fail the input schema (an empty query, a
    ``top_k`` of 0) as pydantic's text: several lines with the rejected value
    and a link to pydantic's documentation. A model, or a person reading its
    transcript, gets "query: String should have at least 1 character" instead.
    """

    search_tool: Callable[[], Callable[..., Any]] | None = None
    """Makes the search tool's function with the filters as they stand (``_search_tool``)."""
    _search_filters: tuple[str, ...] = ()

    def sync_search_tool(self) -> None:
        """(Re-)register the search tool if the filters changed since it was registered.

        A report added after startup may bring a kind of its own ("article",
        found by the generic scheme) once its build loads: the tool then
        takes it as an argument like any other filter, in its listed schema
        and in its calls (the SDK drops arguments the schema does not name).
        """
        names = tuple(filter_names())
        if self.search_tool is None or names == self._search_filters:
            return
        if self._search_filters:
            self.remove_tool("search")
        self.add_tool(
            self.search_tool(),
            name="search",
            title="Search the reports",
            description=_search_description(),
            annotations=_READ_ONLY,
        )
        self._search_filters = names

    async def list_tools(self) -> list[MCPTool]:
        self.sync_search_tool()
        return await super().list_tools()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        self.sync_search_tool()
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if type(exc) is not ToolError or not isinstance(cause, ValidationError):
                raise
            # Chained to the ValidationError, so the SDK still logs only the field names.
            raise ToolError(f"Error executing tool {name}: {field_errors(cause.errors())}") from cause


def _search_description() -> str:
    """The search tool's description, naming the filters as they stand."""
    return (
        "Find the passages of the drug-policy reports that answer a question, best first. Each result "
        "has the verbatim text, its citation label (report > thematic area > objective > priority "
        "action, or the report's own numbering), the section id, and the exact character span. "
        "`answer` is the best sentence, list item or table row when one is close enough, else null. Name a section "
        "to get it first ('priority action 2.6', 'recommendation 11', 'alliance point 5'). "
        f"Filters narrow the search: {describe_filters()}; an unknown value is refused with the list of "
        "valid ones. Cite results by their label."
    )


def _search_tool(state: StateSource, base_url: str) -> Callable[..., Any]:
    """The search tool's function, with one argument per filter as the filters stand now."""

    @partial(with_filter_parameters, parameter=_filter_field)
    async def search(
        query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The question.")],
        top_k: Annotated[int, Field(ge=1, le=MAX_TOOL_TOP_K, description="How many passages.")] = 5,
        **filter_values: str | None,
    ) -> Annotated[CallToolResult, SearchOutput]:
        try:
            filters = SearchFilters(**filter_values)
        except ValidationError as exc:
            raise ToolError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from exc
        response = await _call(state, lambda loaded: search_response(loaded, query, top_k, filters))
        out = SearchOutput(
            query=response.query,
            answer=response.answer,
            results=[
                SearchHit(
                    rank=r.rank,
                    id=r.passage_id,
                    title=r.citation.label,
                    url=reading_url(base_url, r.citation.section_id),
                    text=r.text,
                    score=r.score,
                    section_id=r.citation.section_id,
                    section_ids=r.citation.section_ids,
                    document_id=r.citation.document_id,
                    document_title=r.citation.document_title,
                    label=r.citation.label,
                    path=r.citation.path,
                    char_start=r.citation.char_start,
                    char_end=r.citation.char_end,
                    pages=r.citation.pages,
                )
                for r in response.results
            ],
        )
        return _result(out, _sources_text(out))

    return search


def create_mcp_server(state: StateSource, *, base_url: str) -> MCPServer:
    """The MCP server over the index that ``state`` returns; ``base_url`` makes result URLs absolute."""
    # The SDK logs every stateless request at INFO ("Terminating session"): warnings only.
    server = _Server(
        name=SERVER_NAME,
        title="policyqa: cited drug-policy reports",
        instructions=_INSTRUCTIONS,
        version=_version(),  # serverInfo.version in initialize (it was empty)
        log_level="WARNING",
    )
    logging.getLogger("mcp").setLevel(logging.WARNING)

    server.search_tool = partial(_search_tool, state, base_url)
    server.sync_search_tool()

    @server.tool(
        title="Fetch a section or passage",
        description=(
            "Return the full verbatim text of a section (by section id, e.g. from a search result's "
            "section_id or an outline) or of one passage (by passage id, a search result's id), with its "
            "citation label, typed path, character span, parent and children ids. Use it to read a cited "
            "section in full before quoting it."
        ),
        annotations=_READ_ONLY,
    )
    async def fetch(
        id: Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS, description="A section id or passage id.")],
    ) -> Annotated[CallToolResult, FetchOutput]:
        out = await _call(state, lambda loaded: _fetch(loaded, id, base_url))
        return _result(out, f"{out.label}\n\n{out.text}")

    @server.tool(
        title="List the reports",
        description=(
            "List the reports in the index: id (the `document` filter of search, and outline's "
            "document_id), title, publisher, date, and how many sections and passages each has."
        ),
        annotations=_READ_ONLY,
    )
    async def list_documents() -> Annotated[CallToolResult, DocumentsOutput]:
        out = DocumentsOutput(documents=await _call(state, document_list))
        text = "\n".join(f"{d.id}: {d.title} ({d.publisher}, {d.date})" for d in out.documents)
        return _result(out, text)

    @server.tool(
        title="A report's outline",
        description=(
            "The section tree of one report, by its own numbering (thematic areas > objectives > priority "
            "actions for the MEM; alliance points; issues > recommendations > paragraphs; ...), each node "
            "with the section id to `fetch`."
        ),
        annotations=_READ_ONLY,
    )
    async def outline(
        document_id: Annotated[
            str, Field(min_length=1, max_length=200, description="A document id from list_documents.")
        ],
    ) -> Annotated[CallToolResult, DocumentOutline]:
        out = await _call(state, lambda loaded: document_outline(loaded, document_id))
        return _result(out, out.model_dump_json(indent=1))

    @server.resource(
        "policyqa://documents/{document_id}/outline",
        name="outline",
        title="Report outline",
        description="A report's section tree (JSON), by its own numbering, with section ids to fetch.",
        mime_type="application/json",
    )
    async def outline_resource(document_id: str) -> str:
        out = await _call(state, lambda loaded: document_outline(loaded, document_id), ResourceError)
        return str(out.model_dump_json())

    @server.resource(
        "policyqa://documents",
        name="documents",
        title="Reports",
        description="The reports in the index (JSON).",
        mime_type="application/json",
    )
    async def documents_resource() -> str:
        documents = await _call(state, document_list, ResourceError)
        return json.dumps([d.model_dump(mode="json") for d in documents])

    @server.prompt(
        name="answer-with-citations",
        title="Answer with citations",
        description="Answer a question from the reports only, citing each claim by its section label.",
    )
    def answer_with_citations(
        question: Annotated[str, Field(description="The question to answer from the reports.")],
    ) -> str:
        return (
            f"Answer this question from the drug-policy reports: {question}\n\n"
            "Rules:\n"
            "1. Call the `search` tool with the question (and a filter if the question names a report, "
            "thematic area or numbered section: objective, priority action, recommendation...). Use `fetch` on "
            "a result's section_id to read "
            "the whole section when the passage is cut short.\n"
            "2. Answer only from the passages the tools return. If they do not answer the question, say so; "
            "never fill gaps from memory.\n"
            "3. Cite every claim with the passage's label in square brackets, exactly as given, e.g. "
            "[MEM Mexico 2024 — Institutional Strengthening › Objective 2 › Priority Action 2.6]. Never "
            "invent or renumber a section: a wrong objective is worse than no citation.\n"
            "4. Quote the report's words verbatim where precision matters; answer in the user's language, "
            "but keep quotations in the language of the report."
        )

    return server


def _fetch(loaded: Loaded, id: str, base_url: str) -> FetchOutput:
    """A section by id, else a passage by id; the error names both kinds."""
    if id in loaded.retriever.index.sections:
        s = section_detail(loaded, id)
        return FetchOutput(
            id=s.section_id,
            kind="section",
            title=s.label,
            url=reading_url(base_url, s.section_id),
            text=s.text,
            document_id=s.document_id,
            document_title=s.document_title,
            label=s.label,
            path=s.path,
            section_id=s.section_id,
            char_start=s.char_start,
            char_end=s.char_end,
            parent_id=s.parent_id,
            children_ids=[c.section_id for c in s.children],
        )
    if id not in loaded.retriever.index.passage_index:
        raise NotFoundError(f"no section or passage {shown(id)}; ids come from search results and outlines")
    p = passage_detail(loaded, id)
    c = p.citation
    return FetchOutput(
        id=p.passage_id,
        kind="passage",
        title=c.label,
        url=reading_url(base_url, c.section_id),
        text=p.text,
        document_id=c.document_id,
        document_title=c.document_title,
        label=c.label,
        path=c.path,
        section_id=c.section_id,
        char_start=c.char_start,
        char_end=c.char_end,
        parent_id=c.section_id,
        children_ids=[],
        previous_passage_id=p.previous_passage_id,
        next_passage_id=p.next_passage_id,
    )


# -- streamable HTTP ---------------------------------------------------------------
