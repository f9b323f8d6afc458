"""Helpers for writing gold questions: show a section's own text, find where a quote stands.

Run as ``python -m eval._gold_tools show SECTION_ID`` to print the exact text a
quote may be taken from (heading, then each body span, line by line), or
``python -m eval._gold_tools find DOCUMENT_ID "QUOTE"`` to list the sections
whose own text holds the quote verbatim. Lines are printed with ``repr`` so
tabs, non-breaking spaces and curly quotes show as they are in the file.
"""

from __future__ import annotations

import sys

from core.types import Section
from corpus import load_corpus

__all__ = ["find", "show"]


def _own_text(section: Section, text: str) -> list[str]:
    spans = ([section.heading] if section.heading else []) + list(section.body)
    return [text[a:b] for a, b in spans]


def show(section_id: str) -> list[str]:
    """The lines of a section's own text (heading first), exactly as in the file."""
    document_id = section_id.split("/", 1)[0]
    for doc in load_corpus(only=document_id):
        for section in doc.walk():
            if section.id == section_id:
                return [line for part in _own_text(section, doc.text) for line in part.splitlines()]
    raise SystemExit(f"no section {section_id!r}")


def find(document_id: str, quote: str) -> list[str]:
    """Ids of the sections of ``document_id`` whose own text holds ``quote`` verbatim."""
    (doc,) = load_corpus(only=document_id)
    return [s.id for s in doc.walk() if any(quote in part for part in _own_text(s, doc.text))]


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["show", section_id]:
            print("\n".join(repr(line) for line in show(section_id)))
        case ["find", document_id, quote]:
            print("\n".join(find(document_id, quote)) or "not found")
        case _:
            raise SystemExit(__doc__)
