"""Markdown and plain text: already in the corpus's form, kept as they are."""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import ExtractionError
from corpus.extract._base import Extracted, check_enough_text
from corpus.extract._meta import date_in

__all__ = ["extract_markdown", "extract_text"]

_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_FRONT_MATTER = 2000  # the first characters, where a title page states the date


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise ExtractionError(f"{path.name}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ExtractionError(f"{path.name}: cannot read the file ({exc.strerror})") from None


def _first_line(text: str) -> str | None:
    return next((line.strip().strip("*").strip() for line in text.splitlines() if line.strip()), None)


def extract_markdown(path: Path) -> Extracted:
    """A Markdown file as is; its title is its first heading."""
    text = check_enough_text(_read(path), path.name)
    heading = _HEADING.search(text)
    title = heading.group(1).replace("*", "").strip() if heading else _first_line(text)
    return Extracted(text=text, pages=(), format="markdown", title=title, date=date_in(text[:_FRONT_MATTER]))


def extract_text(path: Path) -> Extracted:
    """A plain-text file as is; its title is its first line."""
    text = check_enough_text(_read(path), path.name)
    return Extracted(text=text, pages=(), format="text", title=_first_line(text), date=date_in(text[:_FRONT_MATTER]))
