"""Schemes read a heading line through its markup, as an extracted PDF writes it ("## Issue 1. ...")."""

from __future__ import annotations

import pytest

from corpus import load_catalog, parse_document
from corpus._schemes import get_parser
from corpus._tree import freeze, unmark
from tests.pdf_fixtures import section_ids


@pytest.mark.parametrize(
    ("line", "bare"),
    [
        ("## Issue 1. New modi operandi", "Issue 1. New modi operandi"),
        ("**Objective 4**", "Objective 4"),
        ("### **Objective 2**", "Objective 2"),
        (" Foreword", "Foreword"),
        ("- **Deployment:**", "- **Deployment:**"),
        ("**a** and **b**", "**a** and **b**"),
        ("#hashtag", "#hashtag"),
    ],
)
def test_unmark(line: str, bare: str) -> None:
    assert unmark(line) == bare


@pytest.mark.parametrize("document", load_catalog(), ids=lambda d: d.id)
def test_headings_set_as_markdown_headings_keep_the_outline(document) -> None:
    parsed = parse_document(document)
    starts = set()

    def walk(sections) -> None:
        for s in sections:
            if s.heading:
                starts.add(parsed.text.rfind("\n", 0, s.heading[0]) + 1)
            walk(s.children)

    walk(parsed.sections)
    text = parsed.text
    for start in sorted(starts, reverse=True):
        line = text[start:].lstrip(" ")
        if not line.startswith(("#", "- ")):
            text = text[:start] + "## " + line
    marked = freeze(document.id, get_parser(document.scheme)(text, document))
    assert section_ids(marked) == section_ids(parsed.sections)
