"""The typed hand-offs between pipeline stages.

Every stage consumes the previous stage's output type and nothing else:

    corpus  -> ParsedDocument (Document + Section tree)
    index   -> Passage (chunked, cited text) -> stored in an Index
    qa      -> Hit (a ranked, scored Passage)

All are frozen dataclasses so a value handed from one stage to the next
cannot be changed behind the receiver's back. API schemas live apart, in
``api/``, so the wire format can evolve without touching the pipeline.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

__all__ = [
    "Answer",
    "Answered",
    "BuildReport",
    "Document",
    "Filters",
    "Hit",
    "ParsedDocument",
    "Passage",
    "PathElement",
    "Section",
    "SectionRef",
    "Span",
]

Span = tuple[int, int]
"""A half-open character range ``[start, end)`` in a corpus file."""


@dataclass(frozen=True, slots=True)
class Document:
    """One report of the catalog."""

    id: str
    title: str
    short_title: str
    publisher: str
    date: str
    country: str
    kind: str
    file: str
    scheme: str
    names: tuple[str, ...] = ()
    """What users call the report, in every language (``catalog.json``'s ``names``): routing reads them."""
    area_names: tuple[tuple[str, str], ...] = ()
    """(the report's own area title, its name in another language): routing and the area filter read them."""
    pages: tuple[Span, ...] = ()
    """Page ``n``'s ``[start, end)`` in the text is ``pages[n - 1]`` (a report added from a PDF); else ``()``."""
    original: str | None = None
    """The file as published, relative to the corpus directory (``originals/ID.pdf``), for an added report."""

    def pages_of(self, start: int, end: int) -> tuple[int, int] | None:
        """The 1-based ``(first, last)`` pages the text ``[start, end)`` lies on; None without a page map."""
        pages = self.pages
        if not pages or end <= start or start < pages[0][0] or end > pages[-1][1]:
            return None
        starts = [s for s, _ in pages]
        return bisect_right(starts, start), bisect_right(starts, end - 1)


@dataclass(frozen=True, slots=True)
class PathElement:
    """One step of a section path: what a citation names at that level."""

    kind: str
    number: str | None
    title: str
    label: str
    """The element as staff would cite it: "Objective 2", "International Cooperation" (``corpus.kinds``)."""


@dataclass(frozen=True, slots=True)
class Section:
    """A node of a report's section tree.

    ``heading`` is where the heading stands in the file; ``body`` the spans of
    text this section owns directly (its children's text is theirs, not its).
    Where several headings stand over one body (MEM Prevention priority
    actions 2.1, 2.4 and 2.5) each of those sections carries the same body
    spans, and the chunker turns that body into passages citing all of them.
    """

    id: str
    document_id: str
    kind: str
    number: str | None
    title: str
    path: tuple[PathElement, ...]
    heading: Span | None
    body: tuple[Span, ...]
    children: tuple[Section, ...] = ()

    def walk(self) -> list[Section]:
        """This section and all its descendants, in document order."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A report with its verbatim text and its section tree."""

    document: Document
    text: str
    sections: tuple[Section, ...]

    def walk(self) -> list[Section]:
        """Every section of the document, in document order."""
        out: list[Section] = []
        for section in self.sections:
            out.extend(section.walk())
        return out


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrievable, citable piece of one section's own text.

    ``text`` is exactly ``corpus_file[start:end]``; ``embed_text`` is the
    cleaned text with its heading context, which is what both retrieval legs
    see. ``section_ids``/``paths`` name every section the text belongs to; the
    first is the primary citation.
    """

    id: str
    document_id: str
    section_ids: tuple[str, ...]
    paths: tuple[tuple[PathElement, ...], ...]
    label: str
    start: int
    end: int
    text: str
    embed_text: str
    ordinal: int = 0

    @property
    def section_id(self) -> str:
        return self.section_ids[0]

    @property
    def path(self) -> tuple[PathElement, ...]:
        return self.paths[0]


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage as ranked for one query."""

    passage: Passage
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Answer:
    """The answering text of a search, where it stands in the corpus file and the passage it came from.

    ``text`` is exactly ``corpus_file[start:end]``: a sentence (or two), a list
    item, or a table row. A row comes with its table's ``header`` rows
    (verbatim, tab-separated) and, when the question names one of its columns
    (a year, "coverage rate"), that ``cell`` as ``(column name, value)``.
    ``score`` is the answer's own cosine to the question.
    """

    text: str
    score: float
    passage: Passage
    start: int
    end: int
    kind: str = "sentence"
    header: str | None = None
    cell: tuple[str, str] | None = None
    relevance: float = 0.0
    """The best cosine among all candidate units: what ``answer_min_score`` is compared with."""


@dataclass(frozen=True, slots=True)
class Answered:
    """One question's ranked passages and the answer drawn from them (None: nothing answers closely enough)."""

    hits: list[Hit]
    answer: Answer | None
    language: str = "en"
    """The question's language (detected, or as the caller said): ``en`` or ``es``."""


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What ``policyqa build`` did."""

    built: bool
    path: str
    passages: int
    sections: int
    documents: int
    seconds: float
    reason: str
    served_seconds: float | None = None
    """When a build adapted MiniLM in a second stage (``index.stages``): when its first stage went live."""


class Filters(Mapping[str, str]):
    """Restrictions applied to every retrieval leg before ranking: an immutable mapping of filter name to value.

    The names are the report (``document``) and the section kinds that are
    filters (``qa.filters.filter_specs``: ``thematic_area`` and every numbered
    kind, ``objective``, ``priority_action``, ``goal``...). Values are as users write them: a document id, an
    area's name (or an unambiguous part of it, "prevention"), a number.
    Unset (None or empty) values do not restrict.
    """

    __slots__ = ("_values",)

    def __init__(self, **values: str | None) -> None:
        self._values: dict[str, str] = {k: v for k, v in values.items() if v}

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Filters({', '.join(f'{k}={v!r}' for k, v in self._values.items())})"

    def replace(self, **values: str | None) -> Filters:
        """These filters with ``values`` set (or unset, with None)."""
        return Filters(**{**self._values, **values})


@dataclass(frozen=True, slots=True)
class SectionRef:
    """A section named in a question: "priority action 2.6", "recommendation 12"."""

    kind: str
    number: str
