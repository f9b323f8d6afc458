"""What every extractor hands back, and the checks they share.

``Extracted.text`` is the report in the markdown-like form of the bundled
``corpus/*.txt`` files (``#`` heading lines, ``**bold**`` lines, one blank
line between paragraphs, tab-separated table rows under their header row,
list items on lines of their own), so the parsing schemes read an extracted
report as they read a bundled one. ``pages`` maps it back to the file's
pages, so a passage's ``[start, end)`` can be cited as ``[first, last]``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

from core.errors import ExtractionError
from core.types import Span

__all__ = [
    "MIN_TEXT_CHARS",
    "Extracted",
    "check_enough_text",
    "normalize_ligatures",
    "pages_of",
]

MIN_TEXT_CHARS = 100
"""Fewer letters and digits than this is "almost no text": the extraction failed, not a tiny report."""

_LIGATURES = re.compile("[\ufb00-\ufb06]")
_WORD_CHAR = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class Extracted:
    """A report's text, where its pages lie in that text, and what the file says about itself.

    ``pages[n - 1]`` is the ``[start, end)`` range of page ``n``: the ranges
    are contiguous and cover the whole text (the blank lines after a page's
    last paragraph belong to it), so every offset lies on exactly one page.
    Formats without pages (DOCX, HTML, Markdown, plain text) have ``()``.
    """

    text: str
    pages: tuple[Span, ...]
    format: str  # "pdf", "docx", "html", "markdown" or "text"
    ocr: bool = False
    title: str | None = None
    publisher: str | None = None  # the file's author or publisher, as its metadata names it
    date: str | None = None  # ISO-like: "2024", "2024-03" or "2024-03-15"


def pages_of(page_map: tuple[Span, ...] | list[Span], start: int, end: int) -> tuple[int, int] | None:
    """The 1-based ``(first, last)`` pages that ``[start, end)`` lies on; None without pages or outside them."""
    if not page_map or end <= start or start < page_map[0][0] or end > page_map[-1][1]:
        return None
    starts = [s for s, _ in page_map]
    first = bisect_right(starts, start)
    last = bisect_right(starts, end - 1)
    return (first, last)


def normalize_ligatures(text: str) -> str:
    """Ligature code points (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) as their letters; every other character as it is."""
    return _LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def check_enough_text(text: str, name: str) -> str:
    """``text`` if it holds at least ``MIN_TEXT_CHARS`` letters or digits, else ``ExtractionError``."""
    found = len(_WORD_CHAR.findall(text))
    if found < MIN_TEXT_CHARS:
        raise ExtractionError(
            f"{name}: almost no text could be extracted ({found} letters or digits; at least {MIN_TEXT_CHARS} expected)"
        )
    return text
