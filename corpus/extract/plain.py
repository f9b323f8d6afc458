"""Markdown and plain text: already in the corpus's form, kept as they are."""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import ExtractionError
from corpus.extract._base import Extracted, check_enough_text
from corpus.extract._meta import MONTHS, date_in

__all__ = ["extract_markdown", "extract_text"]

_HEADING = re.compile(r"#{1,6}[ \t]+(.+?)[ \t#]*")
_WHOLE_BOLD = re.compile(r"\*{2,3}([^*].*?)\*{2,3}")
_FRONT_MATTER = 2000  # the first characters, where a title page states the title and the date
_TITLE_WORDS = range(2, 21)
"""A title's length in words: a lone word is a mark ("OAS", the publisher's logo) or a label, over 20 a paragraph."""
_NOT_TITLE_WORDS = re.compile(rf"(?i)\b(?:{'|'.join(MONTHS)}|de|of|the)\b|[\W\d_]")


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise ExtractionError(f"{path.name}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ExtractionError(f"{path.name}: cannot read the file ({exc.strerror})") from None


def _front_paragraphs(text: str) -> list[tuple[bool, str]]:
    """The front matter's paragraphs, each as (whether it is a heading, its words without markup).

    A heading is a ``#`` line (which may run straight into its text) or a
    paragraph wholly in bold, as the corpus's text form writes headings set
    at body size.
    """
    paragraphs = []
    for block in re.finditer(r"(?:[^\n]*\S[^\n]*(?:\n|$))+", text):
        if block.start() >= _FRONT_MATTER:
            break
        lines = [line.strip() for line in block.group().splitlines() if line.strip()]
        if not lines:
            continue
        if heading := _HEADING.fullmatch(lines[0]):
            paragraphs.append((True, heading.group(1)))
            continue
        joined = " ".join(lines)
        bold = _WHOLE_BOLD.fullmatch(joined)
        paragraphs.append((bold is not None, bold.group(1) if bold else joined))
    return [(heading, " ".join(words.replace("*", " ").split())) for heading, words in paragraphs]


def _title_like(heading: bool, words: str) -> bool:
    # Not a lone word ("OAS", "Foreword"), not a date ("16 August 2019"), not a paragraph or a sentence of one.
    prose = not heading and words.endswith((".", ",", ";"))
    return len(words.split()) in _TITLE_WORDS and bool(_NOT_TITLE_WORDS.sub("", words)) and not prose


def title_of(text: str) -> str | None:
    """A text's title: its first heading of two words or more near the top, else its first such line, else None."""
    candidates = [(heading, words) for heading, words in _front_paragraphs(text) if _title_like(heading, words)]
    headings = [words for heading, words in candidates if heading]
    return headings[0] if headings else candidates[0][1] if candidates else None


def extract_markdown(path: Path) -> Extracted:
    """A Markdown file as is; its title is its first heading (``title_of``)."""
    text = check_enough_text(_read(path), path.name)
    return Extracted(text=text, pages=(), format="markdown", title=title_of(text), date=date_in(text[:_FRONT_MATTER]))


def extract_text(path: Path) -> Extracted:
    """A plain-text file as is; its title is its first heading or line (``title_of``); none: the file's name."""
    text = check_enough_text(_read(path), path.name)
    return Extracted(text=text, pages=(), format="text", title=title_of(text), date=date_in(text[:_FRONT_MATTER]))
