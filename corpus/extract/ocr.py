"""OCR for a scanned PDF (no text layer): pypdfium2 renders each page, Debian's tesseract reads it.

tesseract is optional (``apt-get install tesseract-ocr tesseract-ocr-spa``,
or ``make ocr``); without it a scan is refused with an error that says so.
It runs one page at a time on one thread (``OMP_THREAD_LIMIT=1``), so an
OCR never takes the machine's cores from a running server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pypdfium2

from core.errors import ExtractionError
from corpus.extract._base import Extracted, check_enough_text, normalize_ligatures
from corpus.extract._meta import date_in

__all__ = ["OCR_DPI", "available", "extract_scanned"]

OCR_DPI = 200
"""Rendering resolution for OCR: tesseract reads 10-12 pt text well from 200 dpi."""

_LANGUAGES = ("eng", "spa")
_HYPHEN_BREAK = re.compile(r"(\w)-\n(?=[a-zñáéíóú])")
_LINE_BREAK = re.compile(r"(?<=\S)[ \t]*\n(?=[ \t]*\S)")
_BLANK_LINES = re.compile(r"\n\s*\n")


def available() -> str | None:
    """The tesseract executable on PATH, or None."""
    return shutil.which("tesseract")


def _languages(tesseract: str) -> str:
    out = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True, check=False).stdout
    have = set(out.split())
    return "+".join(lang for lang in _LANGUAGES if lang in have) or "eng"


def _paragraphs(raw: str) -> str:
    """tesseract's hard-wrapped lines joined into paragraphs (hyphenated line ends joined)."""
    paragraphs = []
    for block in _BLANK_LINES.split(normalize_ligatures(raw).replace("\f", "")):
        block = _LINE_BREAK.sub(" ", _HYPHEN_BREAK.sub(r"\1", block.strip()))
        if block:
            paragraphs.append(block)
    return "\n\n".join(paragraphs)


def extract_scanned(path: Path, n_pages: int, title: str | None = None, publisher: str | None = None) -> Extracted:
    """The text of a scanned PDF, page by page, by OCR."""
    tesseract = available()
    if tesseract is None:
        raise ExtractionError(
            f"{path.name}: a scanned PDF with no text layer, and OCR is not installed "
            "(apt-get install tesseract-ocr tesseract-ocr-spa)"
        )
    languages = _languages(tesseract)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    parts: list[str] = []
    pages: list[tuple[int, int]] = []
    pos = 0
    doc = pypdfium2.PdfDocument(str(path))
    try:
        with tempfile.TemporaryDirectory(prefix="policyqa-ocr-") as tmp:
            for i in range(n_pages):
                image = Path(tmp) / f"page-{i + 1}.png"
                doc[i].render(scale=OCR_DPI / 72, grayscale=True).to_pil().save(image)
                done = subprocess.run(
                    [tesseract, str(image), "stdout", "-l", languages],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=False,
                )
                if done.returncode != 0:
                    raise ExtractionError(f"{path.name}: OCR failed on page {i + 1}: {done.stderr.strip()[:200]}")
                text = _paragraphs(done.stdout)
                piece = (text + "\n\n") if text else ""
                pages.append((pos, pos + len(piece)))
                parts.append(piece)
                pos += len(piece)
    finally:
        doc.close()
    full = "".join(parts).rstrip("\n") + "\n"
    pages[-1] = (pages[-1][0], len(full))
    pages = [(min(s, len(full)), min(e, len(full))) for s, e in pages]
    check_enough_text(full, path.name)
    first = full[pages[0][0] : pages[0][1]]
    return Extracted(
        text=full,
        pages=tuple(pages),
        format="pdf",
        ocr=True,
        title=title or (first.split("\n", 1)[0].strip() or None),
        publisher=publisher,
        date=date_in(first),
    )
