"""Sentence spans of passage text, shared by the index (sentence vectors) and answers.

A sentence's span is in corpus-file offsets when the passage start is given,
so an answer can cite the exact characters it quotes.
"""

from __future__ import annotations

import re

from qa.types import Span

__all__ = ["split_sentences"]

# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed
# by space and something that can start a sentence. A blank line or a new
# list item also ends one, unless the next line starts in lower case (a
# page break in mid-sentence: "their\n\n\n\nspecific needs").
_BOUNDARY = re.compile(
    r"[.!?][\"”’)\]]*(?P<gap>\s+)(?=[\"“(\[A-Z0-9•\-*])"
    r"|(?P<para>\n\s*\n\s*)(?=[^a-z\s])"
    r"|(?P<item>\n\s*)(?=(?:[-•*]|\d{1,2}[.)])\s)"
)
# Words after which a period does not end a sentence ("U.S. Department",
# "No. 5", "e.g. Mexico"), and single capitals (initials).
_ABBREVIATIONS = frozenset(
    {"u.s", "e.g", "i.e", "etc", "no", "nos", "art", "arts", "mr", "mrs", "ms", "dr", "st", "jr", "sr"}
    | {"vs", "vol", "p", "pp", "para", "paras", "inc", "co", "corp", "gen", "lic"}
)
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
# "1." or "2.6." opening a list item is a number, not a sentence.
_LIST_NUMBER = re.compile(r"\d{1,3}(?:\.\d{1,3})*\.")


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Trimmed sentence spans of ``text``, shifted by ``offset``; ``text[s-offset:e-offset]`` is one sentence."""
    spans: list[Span] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        if m.group("gap"):
            # m.start() is the punctuation; a period after an abbreviation ends nothing.
            last = _LAST_WORD.search(text, max(0, m.start() - 30), m.start() + 1)
            if (last and _is_abbreviation(last.group(1))) or _LIST_NUMBER.fullmatch(text[pos : m.start() + 1].strip()):
                continue
        gap = next(g for g in ("gap", "para", "item") if m.group(g) is not None)
        spans.extend(_trimmed(text, pos, m.start(gap), offset))
        pos = m.end()
    spans.extend(_trimmed(text, pos, len(text), offset))
    return spans


def _is_abbreviation(word: str) -> bool:
    w = word.lower()
    return w in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _trimmed(text: str, start: int, end: int, offset: int) -> list[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start + offset, end + offset)] if end > start else []
