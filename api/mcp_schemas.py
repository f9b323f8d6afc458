"""The MCP tools' output schemas: what ``search``, ``fetch`` and ``documents`` return, validated by the SDK.

Search and fetch results carry the id/title/url triple that ChatGPT
connectors and deep-research clients expect, beside our citation fields.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas import AnswerOut, DocumentOut, PathElementOut

__all__ = ["DocumentsOutput", "FetchOutput", "SearchHit", "SearchOutput"]


class SearchHit(BaseModel):
    """One ranked passage with its citation."""

    rank: int = Field(description="1 is best.")
    id: str = Field(description="The passage id; `fetch` it, or fetch `section_id` for the whole section.")
    title: str = Field(description="The citation label: report and typed section path.")
    url: str = Field(description="Where a person reads the cited section.")
    text: str = Field(description="The passage, verbatim.")
    score: float = Field(description="Ranking score; higher is better, non-comparable across queries.")
    section_id: str = Field(description="The primary section the passage cites.")
    section_ids: list[str] = Field(description="Every section the passage belongs to.")
    document_id: str
    document_title: str
    label: str = Field(description="Same as title: quote it when citing.")
    path: list[PathElementOut] = Field(description="Typed section path, outermost first.")
    char_start: int = Field(description="Start of the passage in the report's text file.")
    char_end: int = Field(description="End (exclusive) of the passage in the report's text file.")
    pages: list[int] | None = Field(
        default=None, description="[first, last] pages (1-based) of the published file; null if it has none."
    )


class SearchOutput(BaseModel):
    """The ranked passages for a question, and the extractive answer if one is close enough."""

    query: str
    answer: AnswerOut | None = Field(
        description="The best sentence, list item or table row of the top passages (a row with its header), or null."
    )
    results: list[SearchHit]


class FetchOutput(BaseModel):
    """A section's or a passage's full verbatim text with its place in the report."""

    id: str
    kind: str = Field(description="'section' or 'passage'.")
    title: str = Field(description="The citation label.")
    url: str = Field(description="Where a person reads the section.")
    text: str = Field(description="Verbatim text: the report's characters char_start to char_end.")
    document_id: str
    document_title: str
    label: str
    path: list[PathElementOut]
    section_id: str = Field(description="The section fetched, or the one the passage cites.")
    char_start: int | None
    char_end: int | None
    parent_id: str | None = Field(description="The enclosing section's id, null at the top.")
    children_ids: list[str] = Field(description="Sub-section ids, in order.")
    previous_passage_id: str | None = None
    next_passage_id: str | None = None


class DocumentsOutput(BaseModel):
    """The reports in the index."""

    documents: list[DocumentOut]
