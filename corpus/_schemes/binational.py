"""The United States-Mexico Binational Drug Strategy (1998): alliance points, objectives, actions.

The report opens with unnumbered front parts (Foreword, Introduction, General
Objectives, Specific Objectives), each heading a line indented by one space.
Then, after a "Strategy Component" label, each of the 16 alliance points reads::

    Alliance Point N:  <statement, hard-wrapped, ends at a blank line>
    <intro paragraphs>
    Objectives
    1. <objective> ...
    Actions
    1.  <lead action>   1.1 <action>   1.1.1 <sub-action> ...

Tree built (model decided by the project lead):

- ``section`` per front part; the early list of the 16 alliance points stays body
  of "Specific Objectives".
- ``alliance_point`` N: heading = the statement, body = the intro paragraphs.
- ``objective`` per item of the Objectives list (no heading; body = the item).
- ``action``: the lead actions "N" sit beside the objectives, directly under the
  alliance point (``alliance_point`` > ``objective`` / ``action``); "N.M" is a
  child of action "N" and "N.M.K" of "N.M", as the report numbers them. Actions
  are not nested under objectives: in 12 of the 16 points the Actions list runs
  past the objective count (point 7 has 2 objectives and 6 actions) and action
  N does not always serve objective N, so such nesting would cite wrongly.

Noise kept out of every span: "Strategy Component" labels, stray page-number
lines, lone "C" bullet lines, and the "Objectives"/"Actions" list labels (they
only mark where the lists start; the nodes carry the meaning).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.errors import CorpusError
from core.types import Document, Span
from corpus._tree import Node, paragraph_spans, trim_span

__all__ = ["parse"]

_STRATEGY_COMPONENT = re.compile(r"^[ \t]*Strategy Component[ \t]*$", re.M)
# Front-part headings are Title-Case lines indented by exactly one space (" Foreword"),
# or set as headings ("## Foreword", as an extracted PDF writes a heading).
_FRONT_HEADING = re.compile(r"^(?: |#{1,6}[ \t]+)([A-Z][a-z]+(?: [A-Z][a-z]+)*)[ \t]*$", re.M)
_ALLIANCE_POINT = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+)?Alliance Point (\d+):[ \t]*", re.M)
_OBJECTIVES_LABEL = re.compile(r"^[ \t]*Objectives[ \t]*$", re.M)
_ACTIONS_LABEL = re.compile(r"^[ \t]*Actions[ \t]*$", re.M)
# A list item: "1.  The", "1.1 Both", "3.5.1 Both" (text starts upper-case, so a
# stray page number or a wrapped line beginning with a year never matches).
_ITEM = re.compile(r"^[ \t]*(\d{1,2}(?:\.\d{1,2}){0,2})\.?[ \t]+(?=[A-Z“\"])", re.M)
# Lines that are never text: page numbers, a lone "C" bullet, the component label.
_NOISE_LINE = re.compile(r"[ \t\u00a0]*(?:\d{1,3}|C|Strategy Component)[ \t\u00a0]*")
_BLANK_LINE = re.compile(r"\n[ \t\u00a0]*\n")
_LINE_BREAK_HYPHEN = re.compile(r"-[ \t]*\n\s*")
_WHITESPACE = re.compile(r"\s+")
# A sentence ends at a period after a lower-case letter, digit or ")" followed by a
# capital: "U.S. Customs" and "U. N." do not end one.
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)]\.)\s+(?=[A-Z])")


def parse(text: str, document: Document) -> list[Node]:
    """Build the front sections and the 16 alliance points of the strategy."""
    first_component = _STRATEGY_COMPONENT.search(text)
    if first_component is None:
        raise CorpusError(f"{document.id}: no 'Strategy Component' found")
    nodes = _front_sections(text, first_component.start())
    starts = list(_ALLIANCE_POINT.finditer(text, first_component.end()))
    if not starts:
        raise CorpusError(f"{document.id}: no 'Alliance Point N:' after the front parts")
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        nodes.append(_alliance_point(text, m, end, document))
    return nodes


def _front_sections(text: str, end: int) -> list[Node]:
    """One ``section`` per indented Title-Case heading before the first strategy component."""
    headings = list(_FRONT_HEADING.finditer(text, 0, end))
    nodes: list[Node] = []
    for i, m in enumerate(headings):
        body_end = headings[i + 1].start() if i + 1 < len(headings) else end
        heading = trim_span(text, m.start(), m.end())
        nodes.append(Node("section", None, m.group(1), heading, _prose(text, m.end(), body_end)))
    return nodes


def _alliance_point(text: str, m: re.Match[str], end: int, document: Document) -> Node:
    """One alliance point: statement heading, intro body, its objectives and its actions."""
    number = m.group(1)
    blank = _BLANK_LINE.search(text, m.end(), end)
    heading_end = blank.start() if blank else end
    heading = trim_span(text, m.start(), heading_end)
    ap = Node("alliance_point", number, _clean(text[m.end() : heading_end]), heading)
    objectives_label = _OBJECTIVES_LABEL.search(text, heading_end, end)
    actions_label = _ACTIONS_LABEL.search(text, heading_end, end)
    if objectives_label is None or actions_label is None or actions_label.start() < objectives_label.end():
        raise CorpusError(f"{document.id}: alliance point {number} lacks 'Objectives' then 'Actions'")
    ap.body = _prose(text, heading_end, objectives_label.start())

    objectives: dict[str, Node] = {}
    lead, items = _items(text, objectives_label.end(), actions_label.start())
    ap.body.extend(lead)  # text before the first item (none in this report) stays with the point
    for num, title, body in items:
        if "." in num or num in objectives:
            raise CorpusError(f"{document.id}: alliance point {number}: bad objective number {num}")
        objectives[num] = ap.add(Node("objective", num, title, None, body))

    actions: dict[str, Node] = {}
    lead, items = _items(text, actions_label.end(), end)
    ap.body.extend(lead)
    for num, title, body in items:
        parts = num.split(".")
        parent = ap if len(parts) == 1 else actions.get(".".join(parts[:-1]))
        if parent is None or num in actions:
            raise CorpusError(f"{document.id}: alliance point {number}: action {num} out of sequence")
        actions[num] = parent.add(Node("action", num, _first_sentence(title), None, body))
    return ap


def _items(text: str, start: int, end: int) -> tuple[list[Span], list[tuple[str, str, list[Span]]]]:
    """Split a numbered list into (number, cleaned text without number, spans) items.

    An item runs to the next item; its spans leave out noise lines, so a page
    number between two lines of an item splits its span in two. Returns the
    spans of any text before the first item, too.
    """
    matches = list(_ITEM.finditer(text, start, end))
    lead = _segments(text, start, matches[0].start() if matches else end)
    items: list[tuple[str, str, list[Span]]] = []
    for i, m in enumerate(matches):
        item_end = matches[i + 1].start() if i + 1 < len(matches) else end
        spans = _segments(text, m.start(), item_end)
        body_text = " ".join(text[s:e] for s, e in spans)
        items.append((m.group(1), _clean(body_text[m.end() - spans[0][0] :]), spans))
    return lead, items


def _prose(text: str, start: int, end: int) -> list[Span]:
    """Paragraph spans of running text, noise lines removed.

    A page break sometimes glues two paragraphs without a blank line (" Alliance
    Point 13:" right after point 12 in "Specific Objectives"), so a paragraph is
    also split before a line opening an alliance point.
    """
    out: list[Span] = []
    for seg_start, seg_end in _segments(text, start, end):
        for p_start, p_end in paragraph_spans(text, seg_start, seg_end):
            cuts = [m.start() for m in _ALLIANCE_POINT.finditer(text, p_start, p_end) if m.start() > p_start]
            for a, b in zip([p_start, *cuts], [*cuts, p_end], strict=True):
                span = trim_span(text, a, b)
                if span:
                    out.append(span)
    return out


def _segments(text: str, start: int, end: int) -> list[Span]:
    """Trimmed runs of consecutive non-noise lines in ``[start, end)``."""
    out: list[Span] = []
    run_start = start
    for line_start, line_end in _lines(text, start, end):
        if _NOISE_LINE.fullmatch(text, line_start, line_end):
            span = trim_span(text, run_start, line_start)
            if span:
                out.append(span)
            run_start = line_end
    span = trim_span(text, run_start, end)
    if span:
        out.append(span)
    return out


def _lines(text: str, start: int, end: int) -> Iterator[Span]:
    """``(start, end)`` of each line in ``[start, end)``, newline excluded."""
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        yield pos, line_end
        pos = line_end + 1


def _clean(raw: str) -> str:
    """Join hard-wrapped lines into one line of text; "anti-\\ndrug" keeps its hyphen."""
    return _WHITESPACE.sub(" ", _LINE_BREAK_HYPHEN.sub("-", raw)).strip()


def _first_sentence(title: str) -> str:
    """An action's title: its first sentence (the body keeps the whole text)."""
    return _SENTENCE_END.split(title, maxsplit=1)[0]
