"""DOCX with python-docx: heading styles become ``#`` lines, tables tab-separated rows, lists ``-`` items."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from core.errors import ExtractionError
from corpus.extract._base import Extracted, check_enough_text, normalize_ligatures
from corpus.extract._meta import date_in

__all__ = ["extract_docx"]

_HEADING_STYLE = re.compile(r"(?i)heading\s*(\d)")
_FRONT_MATTER = 2000


def _paragraph(p: Paragraph) -> str | None:
    text = " ".join(normalize_ligatures(p.text).split())
    if not text:
        return None
    style = (p.style.name if p.style is not None else "") or ""
    if style.lower() == "title":
        return f"# {text}"
    if m := _HEADING_STYLE.match(style):
        return "#" * min(max(int(m.group(1)), 1), 6) + " " + text
    if style.lower().startswith("list"):
        return f"- {text}"
    if p.runs and all(r.bold for r in p.runs if r.text.strip()):
        return f"**{text}**"
    return text


def _table(t: Table) -> str | None:
    rows = []
    for row in t.rows:
        cells = [" ".join(normalize_ligatures(c.text).split()) for c in row.cells]
        if any(cells):
            rows.append("\t".join(cells))
    return "\n".join(rows) or None


def _blocks(document: DocxDocument) -> list[str]:
    out = []
    for item in document.iter_inner_content():
        block = _table(item) if isinstance(item, Table) else _paragraph(item)
        if block:
            out.append(block)
    return out


def extract_docx(path: Path) -> Extracted:
    """A Word file's paragraphs, headings and tables in document order."""
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
        raise ExtractionError(f"{path.name}: not a readable DOCX file; is it another format renamed .docx?") from None
    text = "\n\n".join(_blocks(document)) + "\n"
    check_enough_text(text, path.name)
    props = document.core_properties
    created = props.created.date().isoformat() if props.created else None
    first_heading = next((line.lstrip("#").strip() for line in text.split("\n") if line.startswith("#")), None)
    return Extracted(
        text=text,
        pages=(),
        format="docx",
        title=(props.title or "").strip() or first_heading,
        publisher=(props.author or "").strip() or None,
        date=date_in(text[:_FRONT_MATTER], years=False) or created or date_in(text[:_FRONT_MATTER]),
    )
