"""Text out of a report file (PDF, DOCX, HTML, Markdown, plain text), in the corpus's own form.

``extract(path)`` picks the extractor registered for the file's type and
returns an :class:`Extracted`: the text as the parsing schemes read it
(``#`` headings, ``**bold**`` lines, paragraphs between blank lines,
tab-separated table rows), the page map (PDF only) and what the file says
of its title, publisher and date. Every failure is an ``ExtractionError``
with a one-line reason. One module per format; ``FORMATS`` is the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.errors import ExtractionError
from corpus.extract._base import MIN_TEXT_CHARS, Extracted, pages_of
from corpus.extract.pdf import extract_pdf
from corpus.extract.plain import extract_markdown, extract_text
from corpus.extract.web import extract_html
from corpus.extract.word import extract_docx

__all__ = ["FORMATS", "MIN_TEXT_CHARS", "Extracted", "checked_size", "extract", "format_of", "pages_of"]

Extractor = Callable[[Path], Extracted]

FORMATS: dict[str, tuple[str, Extractor]] = {
    ".pdf": ("pdf", extract_pdf),
    ".docx": ("docx", extract_docx),
    ".html": ("html", extract_html),
    ".htm": ("html", extract_html),
    ".md": ("markdown", extract_markdown),
    ".markdown": ("markdown", extract_markdown),
    ".txt": ("text", extract_text),
}
"""File suffix -> (format name, extractor)."""


def format_of(path: Path) -> str:
    """The format a file is read as, from its suffix; ``ExtractionError`` for an unsupported one."""
    try:
        return FORMATS[path.suffix.lower()][0]
    except KeyError:
        raise ExtractionError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(sorted(FORMATS))}"
        ) from None


def checked_size(path: Path) -> int:
    """The size of a report file of a known format; a one-line ``ExtractionError`` if unreadable or empty."""
    format_of(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    if size == 0:
        raise ExtractionError(f"{path.name}: the file is empty (0 bytes)")
    return size


def extract(path: Path | str) -> Extracted:
    """The text, page map and metadata of the report file at ``path``."""
    path = Path(path)
    checked_size(path)
    return FORMATS[path.suffix.lower()][1](path)
