"""Fallback scheme: markdown headings (``#``..``######``) become ``section``s.

Used for a report with no numbering scheme of its own. Text before the first
heading becomes a section titled after the document.
"""

from __future__ import annotations

import re

from core.types import Document
from corpus._tree import Node, paragraph_spans

__all__ = ["parse"]

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#*]*$", re.M)


def parse(text: str, document: Document) -> list[Node]:
    nodes: list[Node] = []
    stack: list[tuple[int, Node]] = []
    matches = list(_HEADING.finditer(text))
    first = matches[0].start() if matches else len(text)
    lead = paragraph_spans(text, 0, first)
    if lead:
        nodes.append(Node("section", None, document.title, None, lead))
    for i, m in enumerate(matches):
        level = len(m.group(1))
        title = m.group(2).replace("*", "").strip()
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        node = Node("section", None, title, (m.start(), m.end()), paragraph_spans(text, m.end(), end))
        while stack and stack[-1][0] >= level:
            stack.pop()
        (stack[-1][1].children if stack else nodes).append(node)
        stack.append((level, node))
    return nodes
