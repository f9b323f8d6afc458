"""PDF: pypdfium2 checks the file opens (password, damage), pdfplumber reads words, fonts and tables.

The words and tables of each page go to :mod:`corpus.extract._layout`,
which puts them in reading order and writes the markdown-like text. A PDF
with no text layer (a scan) is read by :mod:`corpus.extract.ocr` instead.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2

from core.errors import ExtractionError
from corpus.extract import ocr
from corpus.extract._base import Extracted, check_enough_text, normalize_ligatures
from corpus.extract._layout import PageLayout, TableBlock, Word, layout_pages
from corpus.extract._meta import date_in, pdf_date

__all__ = ["extract_pdf"]

log = logging.getLogger("policyqa.extract")

_BOLD_FONT = re.compile(r"(?i)bold|black|heavy|semibold|demi")
_PDF_MAGIC = b"%PDF-"


def _open_check(path: Path) -> int:
    """The page count, after pdfium opened the file: an encrypted, damaged or non-PDF file fails here."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    if _PDF_MAGIC not in head:
        raise ExtractionError(f"{path.name}: not a PDF file (no %PDF header); is it another format renamed .pdf?")
    try:
        doc = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        reason = str(exc).lower()
        if "password" in reason:
            raise ExtractionError(f"{path.name}: the PDF is encrypted; save an unprotected copy and add that") from None
        raise ExtractionError(f"{path.name}: the PDF is damaged or truncated and cannot be opened") from None
    try:
        return len(doc)
    finally:
        doc.close()


def _word(raw: dict[str, Any]) -> Word:
    return Word(
        text=normalize_ligatures(raw["text"]),
        x0=float(raw["x0"]),
        x1=float(raw["x1"]),
        top=float(raw["top"]),
        bottom=float(raw["bottom"]),
        size=float(raw["size"]),
        bold=bool(_BOLD_FONT.search(raw.get("fontname") or "")),
    )


def _inside(raw: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    cx, cy = (raw["x0"] + raw["x1"]) / 2, (raw["top"] + raw["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _cell(text: str | None) -> str:
    return " ".join(normalize_ligatures(text or "").split())


def _page_layout(page: pdfplumber.page.Page) -> PageLayout:
    tables = []
    for table in page.find_tables():
        rows = tuple(tuple(_cell(c) for c in row) for row in table.extract())
        rows = tuple(row for row in rows if any(row))
        if len(rows) >= 2:  # a one-row "table" is a ruled box around text
            tables.append((table.bbox, rows))
    boxes = [bbox for bbox, _ in tables]
    raw_words = page.extract_words(extra_attrs=["fontname", "size"], use_text_flow=False, keep_blank_chars=False)
    words = tuple(_word(w) for w in raw_words if not _inside(w, boxes) and w["text"].strip())
    return PageLayout(
        width=float(page.width),
        height=float(page.height),
        words=words,
        tables=tuple(TableBlock(b[0], b[2], b[1], b[3], rows) for b, rows in tables),
    )


def _first_page_title(layout: PageLayout) -> str | None:
    """The largest text on the first page: the report's title as printed."""
    if not layout.words:
        return None
    largest = max(w.size for w in layout.words)
    title = " ".join(w.text for w in sorted(layout.words, key=lambda w: (w.top, w.x0)) if w.size >= largest - 0.5)
    return title.strip() or None


def extract_pdf(path: Path) -> Extracted:
    """A PDF's text in reading order, its page map and its metadata; OCR for a scan when tesseract is installed."""
    n_pages = _open_check(path)
    try:
        with pdfplumber.open(path) as pdf:
            meta = dict(pdf.metadata or {})
            layouts = [_page_layout(page) for page in pdf.pages]
            has_images = any(page.images for page in pdf.pages)
    except ExtractionError:
        raise
    except Exception as exc:  # pdfminer's many parse errors: the file is damaged
        log.info("pdfplumber failed on %s: %r", path.name, exc)
        raise ExtractionError(f"{path.name}: the PDF is damaged and its text cannot be read") from None
    if sum(len(layout.words) for layout in layouts) == 0 and n_pages and has_images:
        return ocr.extract_scanned(path, n_pages, title=_meta_str(meta, "Title"), publisher=_meta_str(meta, "Author"))
    text, pages = layout_pages(layouts)
    check_enough_text(text, path.name)
    first_page = text[pages[0][0] : pages[0][1]] if pages else ""
    return Extracted(
        text=text,
        pages=tuple(pages),
        format="pdf",
        ocr=False,
        title=_meta_str(meta, "Title") or (_first_page_title(layouts[0]) if layouts else None),
        publisher=_meta_str(meta, "Author"),
        date=date_in(first_page) or pdf_date(_meta_str(meta, "CreationDate")),
    )


def _meta_str(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = " ".join(str(value).split()) if value is not None else ""
    return value or None
