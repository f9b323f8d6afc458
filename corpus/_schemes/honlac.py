"""HONLAC scheme: Issue N > Recommendation N > numbered paragraphs.

The UNODC implementation report (UNODC/HONLAC/29/2) is laid out as:

* front matter (date, meeting, agenda item, the title printed twice and fused
  onto one line with "**Note by the Secretariat**"), then the introductory
  paragraphs 1-4: one ``section`` titled "Note by the Secretariat" whose
  children are those four ``paragraph`` nodes;
* "Issue N. <text>" (Issue 3 reads "Issue 3: <text>"): one ``issue`` each;
  here and for "Recommendation N", heading markup ("## Issue 1. ...", as an
  extracted PDF sets a heading) is read through;
* under an issue, "Recommendation N" (numbered across issues) followed by the
  recommendation statement: one ``recommendation`` whose title and body are
  that statement;
* under a recommendation, the numbered paragraphs "N. <text>" holding each
  government's reply: one ``paragraph`` each, numbered as printed.

Paragraphs are recognised by their number at the start of a line, not by blank
lines: some follow each other with no blank line between them (59-63), and a
page break leaves the tail of a paragraph as an unnumbered block ("INTERPOL and
the system of purple notices..." after 10), which stays with the paragraph
before it. The two footnote lines of the cover page ("* Available only...",
"** [UNODC/HONLAC/29/1](#).") and any stray page-number line are noise and
are kept out of every body.
"""

from __future__ import annotations

import re

from core.types import Document
from corpus._tree import Line, Node, clean_title, line_positions, runs_to_spans, trim_span, unmark

__all__ = ["parse"]

_ISSUE = re.compile(r"Issue[ \t]+(\d+)[.:][ \t]+(\S.*)")
_RECOMMENDATION = re.compile(r"Recommendation[ \t]+(\d+)[ \t]*")
_PARAGRAPH = re.compile(r"(\d+)\.[ \t]+\S.*")
# Cover-page footnotes start with one or two asterisks and a space; the bold
# meeting name ("**Twenty-ninth Meeting ...") has no space after its asterisks.
_FOOTNOTE = re.compile(r"\*{1,2}[ \t]+\S.*")
_PAGE_NUMBER = re.compile(r"[ \t]*\d{1,3}[ \t]*")
# The cover's last heading, fused onto the end of the duplicated title.
_NOTE_HEADING = re.compile(r"\*\*(Note by the Secretariat)\*\*")
_LEADING_NUMBER = re.compile(r"\d+\.\s+")

_FRONT_TITLE = "Note by the Secretariat"
# Paragraph titles name the replying government (paragraph 4 lists them),
# found by name or adjective ("The Colombian national police ..."); a paragraph
# naming none of them (1-4) is titled by its first words instead.
_REPLYING_COUNTRIES: dict[str, str] = {
    "Argentina": "Argentina",
    "Argentine": "Argentina",
    "Chile": "Chile",
    "Chilean": "Chile",
    "Colombia": "Colombia",
    "Colombian": "Colombia",
    "El Salvador": "El Salvador",
    "Salvadoran": "El Salvador",
    "France": "France",
    "French": "France",
    "Honduras": "Honduras",
    "Honduran": "Honduras",
    "Italy": "Italy",
    "Italian": "Italy",
    "Mexico": "Mexico",
    "Mexican": "Mexico",
    "Paraguay": "Paraguay",
    "Paraguayan": "Paraguay",
    "Portugal": "Portugal",
    "Portuguese": "Portugal",
}
# Not inside a hyphenated name: "Fort-de-France" is a city, not France.
_COUNTRY = re.compile(r"(?<![\w-])(" + "|".join(_REPLYING_COUNTRIES) + r")(?![\w-])")
_TITLE_WORDS = 8


def _paragraph_title(body: str, is_reply: bool) -> str:
    """A reply's country (the first replying government it names), else its first words."""
    if is_reply and (m := _COUNTRY.search(body)):
        return _REPLYING_COUNTRIES[m.group(1)]
    words = clean_title(_LEADING_NUMBER.sub("", body)).split()
    return " ".join(words[:_TITLE_WORDS]).rstrip(",;:.")


def parse(text: str, document: Document) -> list[Node]:
    """Build the front section, then Issue > Recommendation > paragraph nodes."""
    front = Node("section", None, _FRONT_TITLE)
    note = _NOTE_HEADING.search(text)
    if note:
        front.heading = (note.start(1), note.end(1))
    nodes: list[Node] = [front]
    # Each node with the lines (index, start, end) it owns, in document order.
    owned: list[tuple[Node, list[Line]]] = [(front, [])]

    def open_node(node: Node, parent: Node | None) -> list[Line]:
        (parent.children if parent else nodes).append(node)
        owned.append((node, []))
        return owned[-1][1]

    issue: Node | None = None
    container: Node = front  # where the next numbered paragraph goes
    lines = owned[0][1]  # where the next unnumbered line goes
    for index, (start, end) in enumerate(line_positions(text)):
        line = text[start:end]
        if not line.strip() or _FOOTNOTE.fullmatch(line) or _PAGE_NUMBER.fullmatch(line):
            continue
        if note and start <= note.start() < end:
            # Only the cover text before the fused heading is front-matter body.
            lines.append((index, start, note.start()))
        elif m := _ISSUE.fullmatch(unmark(line)):
            issue = Node("issue", m.group(1), clean_title(m.group(2)), trim_span(text, start, end))
            lines = open_node(issue, None)
            container = issue
        elif m := _RECOMMENDATION.fullmatch(unmark(line)):
            container = Node("recommendation", m.group(1), "", trim_span(text, start, end))
            lines = open_node(container, issue)
        elif m := _PARAGRAPH.fullmatch(line):
            lines = open_node(Node("paragraph", m.group(1), ""), container)
            lines.append((index, start, end))
        else:
            lines.append((index, start, end))

    # Which paragraphs are government replies is known only from their parent.
    replies = {id(p) for node, _ in owned if node.kind == "recommendation" for p in node.children}
    for node, node_lines in owned:
        node.body = runs_to_spans(text, node_lines)
        own_text = "\n".join(text[s:e] for s, e in node.body)
        if node.kind == "recommendation":
            node.title = clean_title(own_text)
        elif node.kind == "paragraph":
            node.title = _paragraph_title(own_text, id(node) in replies)
    return nodes
