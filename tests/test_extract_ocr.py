"""A scanned PDF (a picture of text, no text layer) is read by Debian's tesseract when it is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.extract import extract, ocr, pages_of
from tests.test_extract_errors import scanned_pdf

pytestmark = [
    pytest.mark.e2e,  # tesseract takes seconds per page
    pytest.mark.skipif(ocr.available() is None, reason="tesseract is not installed (make ocr)"),
]


def test_scanned_pdf_is_read_by_ocr(tmp_path: Path) -> None:
    extracted = extract(scanned_pdf(tmp_path / "scan.pdf"))
    assert (extracted.format, extracted.ocr) == ("pdf", True)
    assert extracted.text.startswith("Priority Action 2.6\n\nMember states reported their progress on every objective")
    assert "the priority actions the commission had agreed upon." in extracted.text
    assert pages_of(extracted.pages, 0, len(extracted.text)) == (1, 1)
