"""Elementa scheme: narrative sections around a Goal > Area > Objective compliance report.

The Elementa DDHH summary "Warlike Approach to Drug Policy during AMLO's
Administration" was converted from a PDF with no heading markup, so its
structure is read from line shapes:

* the title page (all text before the first page number) is a ``section``
  whose heading is the title block;
* narrative headings are plain lines: see :func:`_is_heading` for the rule,
  or ``#`` heading lines (an extracted PDF sets them so). Each starts a
  top-level ``section``;
* a bold bullet line ("- **Deployment:**") is a sub-heading: a ``section``
  nested in the current top-level section;
* "Goal N: <title>" opens a ``goal`` inside the current top-level section (the
  "Bilateral Agreement's Compliance Report"); "Area of Cooperation: <title>"
  (also spelled "Area of cooperation:" and "Cooperation Area:") an ``area``
  in it; "Objective N" an ``objective`` in that area, titled by the line after
  it and owning everything up to the next heading of any kind (the Measure /
  Responsible entity, Indicator and Current status blocks);
* the closing credits ("Translated by: ...", the study reference and contact)
  are a top-level ``section`` without heading.

Footnote lines ("22 Distributed Denial of Secrets...", "¹ The armed forces...")
and stray page-number lines are noise: kept out of every body, where they break
a paragraph in two. Footnote markers inside sentences stay in the text.
"""

from __future__ import annotations

import re

from core.types import Document
from corpus._tree import Line, Node, clean_title, line_positions, runs_to_spans, trim_span, unmark

__all__ = ["parse"]

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_PAGE_NUMBER = re.compile(r"[ \t]*\d{1,3}[ \t]*")
# A footnote line is its number (plain or superscript) then its text. No prose
# line of this report starts with a digit, so this cannot eat body text.
_FOOTNOTE = re.compile(rf"(?:\d{{1,2}}|[{_SUPERSCRIPTS}]{{1,2}})[ \t]+\S.*")
_GOAL = re.compile(r"Goal[ \t]+(\d+):[ \t]*(\S.*)")
_AREA = re.compile(r"(?:Area of [Cc]ooperation|Cooperation Area):[ \t]*(\S.*)")
_OBJECTIVE = re.compile(r"Objective[ \t]+(\d+)[ \t]*")
_SUBHEADING = re.compile(r"-[ \t]+\*\*(.+?)\*\*[ \t]*")
_BACK_MATTER = re.compile(r"Translated by:.*")
# A line set as a heading ("## Findings", as an extracted PDF writes one) after the title page.
_MARKED_HEADING = re.compile(r"#{1,6}[ \t]+\S")
# Labels of an objective's blocks: short plain lines that must not read as headings.
_FIELD_LABELS = frozenset({"Measure / Responsible entity", "Indicator", "Current status"})
_FOOTNOTE_MARKERS = re.compile(rf"[{_SUPERSCRIPTS}]+")

_HEADING_MAX = 100  # longest heading line (the longest real one has 83 characters)
_PROSE_MIN = 100  # a paragraph that may follow a heading is at least this long
_PROSE_START = re.compile(r"[A-Z“\"‘]")
_SMALL_WORDS = frozenset({"A", "AN", "AND", "OF", "THE", "TO"})
_BACK_MATTER_TITLE = "About this publication"


def _is_noise(line: str) -> bool:
    return bool(_PAGE_NUMBER.fullmatch(line) or _FOOTNOTE.fullmatch(line))


def _clean(raw: str) -> str:
    """Title text: markdown, tags and footnote markers dropped, whitespace collapsed."""
    return clean_title(_FOOTNOTE_MARKERS.sub("", raw)).rstrip(":").strip()


def _readable(lines: list[str]) -> str:
    """The title page's lines as one title, ALL-CAPS lines in title case.

    "WARLIKE APPROACH / TO / DRUG POLICY / during AMLO's ..." reads
    "Warlike Approach to Drug Policy during AMLO's ...": small words stay
    lowercase except at the start; mixed-case lines are kept as they are.
    """
    words: list[str] = []
    for line in lines:
        caps = line.isupper()
        for word in line.split():
            if caps:
                word = word.lower() if words and word in _SMALL_WORDS else word.capitalize()
            words.append(word)
    return " ".join(words)


def _is_heading(lines: list[str], i: int) -> bool:
    """Whether plain line ``i`` is a narrative heading.

    The rule: the line stands alone between blank lines; it is at most
    ``_HEADING_MAX`` characters, starts with a capital letter, ends with a
    letter or digit (no sentence or colon ending), is not ALL CAPS (the
    quoted Spanish military memo), has no markdown and is not an objective's
    field label; and the next content line (past blanks and noise) is a
    prose paragraph (capital or quote first, at least ``_PROSE_MIN``
    characters), a bold sub-heading or a goal. That last test is what keeps
    out short lines such as "Consideraciones" (followed by a "◆" bullet) or
    the contact block at the end.
    """
    line = lines[i].strip()
    if not (
        line
        and len(line) <= _HEADING_MAX
        and line[0].isupper()
        and line[-1].isalnum()
        and not line.isupper()
        and "*" not in line
        and line not in _FIELD_LABELS
        and (i == 0 or not lines[i - 1].strip())
        and (i + 1 == len(lines) or not lines[i + 1].strip())
    ):
        return False
    for nxt in lines[i + 1 :]:
        nxt = nxt.strip()
        if not nxt or _is_noise(nxt):
            continue
        if _SUBHEADING.fullmatch(nxt) or _GOAL.fullmatch(nxt):
            return True
        return len(nxt) >= _PROSE_MIN and bool(_PROSE_START.match(nxt))
    return False


def parse(text: str, document: Document) -> list[Node]:
    """Build the title page, narrative sections and the Goal > Area > Objective report."""
    positions = line_positions(text)
    lines = [text[start:end] for start, end in positions]
    nodes: list[Node] = []
    owned: list[tuple[Node, list[Line]]] = []
    goal: Node | None = None
    area: Node | None = None

    def open_node(node: Node, parent: Node | None) -> list[Line]:
        (parent.children if parent else nodes).append(node)
        owned.append((node, []))
        return owned[-1][1]

    # The title page: every content line before the first page number. Its
    # section is the first top-level one; ``body`` always collects the lines of
    # whichever node was opened last.
    first_page = next((i for i, line in enumerate(lines) if _PAGE_NUMBER.fullmatch(line)), 0)
    cover = [i for i in range(first_page) if lines[i].strip()]
    if cover:
        title = _clean(_readable([lines[i] for i in cover]))
        top = Node("section", None, title, trim_span(text, positions[cover[0]][0], positions[cover[-1]][1]))
    else:  # no title page: text before the first heading is titled after the document
        top = Node("section", None, document.title)
    body = open_node(top, None)
    start_line = cover[-1] + 1 if cover else 0

    for index in range(start_line, len(lines)):
        line = lines[index]
        start, end = positions[index]
        stripped = line.strip()
        bare = unmark(stripped)  # "## Goal 1: ..." as an extracted PDF sets a heading
        heading = trim_span(text, start, end)
        if not stripped or _is_noise(line):
            continue
        if m := _GOAL.fullmatch(bare):
            goal = Node("goal", m.group(1), _clean(m.group(2)), heading)
            area = None
            body = open_node(goal, top)
        elif m := _AREA.fullmatch(bare):
            area = Node("area", None, _clean(m.group(1)), heading)
            body = open_node(area, goal)
        elif m := _OBJECTIVE.fullmatch(bare):
            # Titled later, from its first body line (the objective's text).
            body = open_node(Node("objective", m.group(1), "", heading), area or goal)
        elif m := _SUBHEADING.fullmatch(stripped):
            goal = area = None
            body = open_node(Node("section", None, _clean(m.group(1)), heading), top)
        elif _BACK_MATTER.fullmatch(bare):
            goal = area = None
            top = Node("section", None, _BACK_MATTER_TITLE)
            body = open_node(top, None)
            body.append((index, start, end))
        elif _MARKED_HEADING.match(stripped) or _is_heading(lines, index):
            goal = area = None
            top = Node("section", None, _clean(stripped), heading)
            body = open_node(top, None)
        else:
            body.append((index, start, end))

    for node, node_lines in owned:
        node.body = runs_to_spans(text, node_lines)
        if node is nodes[0] and not cover and not node.body and not node.children:
            nodes.remove(node)  # the untitled lead section turned out empty
        if node.kind == "objective" and node.body:
            node.title = _clean(text[node.body[0][0] : node.body[0][1]])
    return nodes
