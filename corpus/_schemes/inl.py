"""The State Department INL fact sheet on Mexico (2005): a saved web page of plain sections.

The page text sits between the site's navigation and its footer::

    <navigation ... " You are in: ... > 2005">
    Fact Sheet / Bureau ... / Washington, DC / August 10, 2005   (header block)
    Counternarcotics and Law Enforcement Country Program: Mexico  (page title)
    Challenges / Key U.S. Counternarcotics Goals / U.S. Programs / <program areas>
    "Back to top" <footer ... "Published by ...">

Every section is a ``section``. A heading is a paragraph of one short line
without closing punctuation; the first heading is the page title, and its
section owns the header block above it. The program areas that follow
"U.S. Programs" are its children: the page introduces them as "the principal
bilateral program areas". Navigation and footer are dropped (in no span).
"""

from __future__ import annotations

import re

from core.errors import CorpusError
from core.types import Document, Span
from corpus._tree import Node, paragraph_spans, unmark

__all__ = ["parse"]

# The breadcrumb ends the navigation; "Back to top" starts the footer.
_CONTENT_START = re.compile(r"^.*You are in:.*\n", re.M)
_CONTENT_END = re.compile(r"^.*Back to top", re.M)
# A heading paragraph: one line, not a bullet, no closing punctuation, not too long.
_HEADING = re.compile(r"[^\n•]{1,100}(?<![.;:,!?])")
_PROGRAMS = "U.S. Programs"


def parse(text: str, document: Document) -> list[Node]:
    """Sections of the fact sheet: page title (with header block), then its headings in order."""
    start = _CONTENT_START.search(text)
    end = _CONTENT_END.search(text, start.end() if start else 0)
    if start is None or end is None:
        raise CorpusError(f"{document.id}: cannot find the page content between navigation and footer")

    nodes: list[Node] = []
    programs: Node | None = None
    lead: list[Span] = []  # paragraphs before the first heading: the header block
    for span in paragraph_spans(text, start.end(), end.start()):
        if _HEADING.fullmatch(text, *span):
            node = Node("section", None, unmark(text[span[0] : span[1]]), span)
            if not nodes:
                node.body, lead = lead, []
            (programs.children if programs else nodes).append(node)
            if node.title == _PROGRAMS:
                programs = node
        elif nodes:
            _last(nodes).body.append(span)
        else:
            lead.append(span)
    if lead or not nodes:
        raise CorpusError(f"{document.id}: no heading found in the page content")
    return nodes


def _last(nodes: list[Node]) -> Node:
    """The section being filled: the deepest last node."""
    node = nodes[-1]
    while node.children:
        node = node.children[-1]
    return node
