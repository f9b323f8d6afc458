"""Bad input: every case is an ExtractionError (a CorpusError) with a one-line reason, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.errors import CorpusError, ExtractionError
from corpus.extract import extract
from tests.pdf_fixtures import _fonts

TEXT = [
    "Member states reported their progress on every objective of the plan,",
    "with figures for each year of the round and the institutions involved",
    "in carrying out the priority actions the commission had agreed upon.",
]


def text_pdf(path: Path, lines: list[str] = TEXT, encrypt: str | None = None) -> Path:
    canvas = Canvas(str(path), pagesize=A4, invariant=1, encrypt=encrypt)
    canvas.setFont(_fonts(), 10)
    for i, line in enumerate(lines):
        canvas.drawString(60, 700 - 12.5 * i, line)
    canvas.save()
    return path


def scanned_pdf(path: Path) -> Path:
    """A PDF holding only a picture of text, as a scanner makes it."""
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
    for i, line in enumerate(["Priority Action 2.6", "", *TEXT]):
        draw.text((100, 150 + 45 * i), line, fill=0, font=font)
    image.save(path, "PDF", resolution=150)
    return path


def reason(path: Path) -> str:
    with pytest.raises(ExtractionError) as info:
        extract(path)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, CorpusError)
    return message


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "locked.pdf", encrypt="secret")
    assert reason(path) == "locked.pdf: the PDF is encrypted; save an unprotected copy and add that"


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = text_pdf(tmp_path / "whole.pdf").read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: len(whole) // 2])
    assert reason(cut) == "cut.pdf: the PDF is damaged or truncated and cannot be opened"


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "garbled.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    assert reason(path) == "garbled.pdf: the PDF is damaged or truncated and cannot be opened"


def test_other_file_named_pdf(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_text("<html><body>Not a PDF at all</body></html>", encoding="utf-8")
    assert reason(path) == "report.pdf: not a PDF file (no %PDF header); is it another format renamed .pdf?"


@pytest.mark.parametrize("name", ["empty.pdf", "empty.docx", "empty.md"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert reason(path) == f"{name}: the file is empty (0 bytes)"


def test_scanned_pdf_without_ocr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = scanned_pdf(tmp_path / "scan.pdf")
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on it
    assert reason(path) == (
        "scan.pdf: a scanned PDF with no text layer, and OCR is not installed "
        "(apt-get install tesseract-ocr tesseract-ocr-spa)"
    )


def test_almost_no_text(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "cover.pdf", ["Annual Report", "2024"])
    assert reason(path) == "cover.pdf: almost no text could be extracted (16 letters or digits; at least 100 expected)"


def test_unsupported_type(tmp_path: Path) -> None:
    path = tmp_path / "slides.pptx"
    path.write_bytes(b"PK\x03\x04")
    assert reason(path) == (
        "slides.pptx: unsupported file type '.pptx'; supported: .docx, .htm, .html, .markdown, .md, .pdf, .txt"
    )


def test_docx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "memo.docx"
    path.write_text("just text", encoding="utf-8")
    assert reason(path) == "memo.docx: not a readable DOCX file; is it another format renamed .docx?"


def test_missing_file(tmp_path: Path) -> None:
    assert reason(tmp_path / "gone.pdf") == "gone.pdf: cannot read the file (No such file or directory)"


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(("Evaluación " * 20).encode("latin-1"))
    assert reason(path) == "latin.txt: not UTF-8 text; save it as UTF-8"
