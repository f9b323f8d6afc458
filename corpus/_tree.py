"""Mutable section nodes that scheme parsers build, frozen into ``Section``s.

Parsers work line by line and discover a section's extent late, so they build
``Node``s and call :func:`freeze` once, which assigns ids and paths. Ids are
derived from the path alone (kind + number, or kind + title slug), so they
stay the same after a rebuild as long as the structure does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.types import PathElement, Section, Span
from corpus.kinds import label_of

__all__ = [
    "Line",
    "Node",
    "clean_title",
    "freeze",
    "line_positions",
    "paragraph_spans",
    "runs_to_spans",
    "slug",
    "trim_span",
    "unmark",
]

_SLUG_RE = re.compile(r"[^a-z0-9]+")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_HASHES = re.compile(r"(?m)^[ \t]*#{1,6}[ \t]+")
_LEADING_HASHES = re.compile(r"#{1,6}[ \t]+")
_WHOLE_BOLD = re.compile(r"\*{2,3}([^*]+)\*{2,3}")

Line = tuple[int, int, int]
"""A line a parser assigned to a section: (line index, start, end)."""


def slug(text: str, limit: int = 48) -> str:
    """A lowercase, dash-separated id segment from a title, cut at a word boundary."""
    s = _SLUG_RE.sub("-", text.lower()).strip("-")
    if len(s) > limit:
        cut = s.rfind("-", 0, limit + 1)
        s = s[: cut if cut > 0 else limit]
    return s.rstrip("-") or "untitled"


@dataclass
class Node:
    """A section under construction."""

    kind: str
    number: str | None
    title: str
    heading: Span | None = None
    body: list[Span] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def add(self, child: Node) -> Node:
        self.children.append(child)
        return child


def trim_span(text: str, start: int, end: int) -> Span | None:
    """Shrink ``[start, end)`` to exclude surrounding whitespace; None if empty."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def paragraph_spans(text: str, start: int, end: int) -> list[Span]:
    """Split ``text[start:end]`` at blank lines into trimmed paragraph spans."""
    out: list[Span] = []
    pos = start
    for m in re.finditer(r"\n[ \t\u00a0]*\n", text[start:end]):
        span = trim_span(text, pos, start + m.start())
        if span:
            out.append(span)
        pos = start + m.end()
    span = trim_span(text, pos, end)
    if span:
        out.append(span)
    return out


def clean_title(raw: str) -> str:
    """Title text of raw markdown/HTML: no tags, ``#`` markers or ``*``, whitespace collapsed."""
    text = _HASHES.sub("", _TAG.sub(" ", raw)).replace("*", "")
    return " ".join(text.split())


def unmark(line: str) -> str:
    """A line without the markup a heading wears: a leading ``#`` run, a whole-line ``**...**``.

    An extracted PDF writes its headings so ("## Issue 1. ...", "**Objective 4**");
    a scheme that recognises a heading by its words reads the words through this.
    """
    text = _LEADING_HASHES.sub("", line.strip(), count=1)
    m = _WHOLE_BOLD.fullmatch(text)
    return m.group(1).strip() if m else text


def line_positions(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, without its line terminator."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line.rstrip("\r"))))
        pos += len(line) + 1
    return out


def runs_to_spans(text: str, owned: list[Line]) -> list[Span]:
    """One trimmed span per run of consecutive owned lines (blank and noise lines break runs)."""
    runs: list[list[int]] = []  # [start, end, index of the run's last line]
    for index, start, end in owned:
        if runs and runs[-1][2] == index - 1:
            runs[-1][1:] = [end, index]
        else:
            runs.append([start, end, index])
    return [span for start, end, _ in runs if (span := trim_span(text, start, end))]


def _segment(node: Node) -> str:
    key = node.number if node.number is not None else slug(node.title)
    return f"{node.kind}-{key}"


def freeze(document_id: str, nodes: list[Node]) -> tuple[Section, ...]:
    """Turn a built node forest into immutable sections with ids and paths."""
    seen: set[str] = set()

    def build(node: Node, parent_id: str, parent_path: tuple[PathElement, ...]) -> Section:
        base = f"{parent_id}/{_segment(node)}"
        sid, n = base, 2
        while sid in seen:  # two siblings with the same title: keep ids unique
            sid, n = f"{base}-{n}", n + 1
        seen.add(sid)
        path = (
            *parent_path,
            PathElement(node.kind, node.number, node.title, label_of(node.kind, node.number, node.title)),
        )
        children = tuple(build(c, sid, path) for c in node.children)
        return Section(
            id=sid,
            document_id=document_id,
            kind=node.kind,
            number=node.number,
            title=node.title,
            path=path,
            heading=node.heading,
            body=tuple(node.body),
            children=children,
        )

    return tuple(build(n, document_id, ()) for n in nodes)
