"""PDF: pypdfium2 opens the file (password, damage) and reads its words; pdfplumber finds ruled tables.

The words and tables of each page go to :mod:`corpus.extract._layout`,
which puts them in reading order and writes the markdown-like text. A PDF
with no text layer (a scan) is read by :mod:`corpus.extract.ocr` instead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2
import pypdfium2.raw as pdfium_c

from core.errors import ExtractionError
from corpus.extract import ocr
from corpus.extract._base import Extracted, check_enough_text, normalize_ligatures
from corpus.extract._layout import layout_pages
from corpus.extract._meta import date_in, pdf_date
from corpus.extract._page import PageLayout, TableBlock, Word
from corpus.extract._pdfium import has_rulings, page_words

__all__ = ["extract_pdf"]

log = logging.getLogger("policyqa.extract")

_PDF_MAGIC = b"%PDF-"


def _open(path: Path) -> pypdfium2.PdfDocument:
    """The document, once pdfium opened it: an encrypted, damaged or non-PDF file fails here."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    if _PDF_MAGIC not in head:
        raise ExtractionError(f"{path.name}: not a PDF file (no %PDF header); is it another format renamed .pdf?")
    try:
        return pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ExtractionError(f"{path.name}: the PDF is encrypted; save an unprotected copy and add that") from None
        raise ExtractionError(f"{path.name}: the PDF is damaged or truncated and cannot be opened") from None


def _cell(text: str | None) -> str:
    return " ".join(normalize_ligatures(text or "").split())


def _tables(page: pdfplumber.page.Page) -> tuple[TableBlock, ...]:
    """The ruled tables pdfplumber finds on a page, each with two rows or more."""
    found = []
    for table in page.find_tables():
        rows = tuple(row for row in (tuple(_cell(c) for c in r) for r in table.extract()) if any(row))
        if len(rows) >= 2:  # a one-row "table" is a ruled box around text
            x0, top, x1, bottom = table.bbox
            found.append(TableBlock(x0, x1, top, bottom, rows))
    return tuple(found)


def _inside(word: Word, tables: tuple[TableBlock, ...]) -> bool:
    cx, cy = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
    return any(t.x0 <= cx <= t.x1 and t.top <= cy <= t.bottom for t in tables)


def _layouts(path: Path, doc: pypdfium2.PdfDocument) -> tuple[list[PageLayout], bool]:
    """Every page's words (pdfium) and tables (pdfplumber, on pages with rulings); whether any page has images."""
    layouts: list[PageLayout] = []
    has_images = False
    ruled: list[int] = []
    for i in range(len(doc)):
        page = doc[i]
        try:
            words = page_words(page)
            if has_rulings(page):
                ruled.append(i)
            has_images = has_images or any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
            layouts.append(PageLayout(float(page.get_width()), float(page.get_height()), words))
        finally:
            page.close()
    if ruled:
        with pdfplumber.open(path) as pdf:
            for i in ruled:
                tables = _tables(pdf.pages[i])
                if tables:
                    words = tuple(w for w in layouts[i].words if not _inside(w, tables))
                    layouts[i] = PageLayout(layouts[i].width, layouts[i].height, words, tables)
                pdf.pages[i].close()
    return layouts, has_images


def _first_page_title(layout: PageLayout) -> str | None:
    """The largest text on the first page: the report's title as printed."""
    if not layout.words:
        return None
    largest = max(w.size for w in layout.words)
    big = sorted((w for w in layout.words if w.size >= largest - 0.5), key=lambda w: (round(w.top / largest), w.x0))
    title = " ".join(w.text for w in big)
    return title.strip() or None


def extract_pdf(path: Path) -> Extracted:
    """A PDF's text in reading order, its page map and its metadata; OCR for a scan when tesseract is installed."""
    doc = _open(path)
    try:
        meta = doc.get_metadata_dict(skip_empty=True)
        n_pages = len(doc)
        layouts, has_images = _layouts(path, doc)
    except ExtractionError:
        raise
    except Exception as exc:  # pdfium's or pdfminer's parse errors: the file is damaged
        log.info("reading %s failed: %r", path.name, exc)
        raise ExtractionError(f"{path.name}: the PDF is damaged and its text cannot be read") from None
    finally:
        doc.close()
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
