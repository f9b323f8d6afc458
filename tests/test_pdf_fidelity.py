"""The bundled reports survive the trip to PDF and back: their outlines, and each passage's pages.

Each report is rendered by ``tests.pdf_fixtures`` (running header, page-number
footer, hyphenation, HONLAC in two columns), extracted by ``corpus.extract``
and parsed with its own scheme. Figures: docs/pdf-fidelity.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
import pytest

from corpus import load_catalog
from corpus.extract import pages_of
from tests.pdf_fixtures import Fidelity, measure, render_report

pytestmark = pytest.mark.e2e  # extracting the five reports takes about a minute of CPU

MIN_RECOVERED = 0.95
MIN_IN_ORDER = 0.995  # of the extracted text's 5-word runs, found in the .txt (reading order, hyphen joins)
SAMPLES = 40  # passages checked per report
WORDS = 5  # words at each end of a passage looked for on its first and last page
IDS = [d.id for d in load_catalog()]
_NOT_ALNUM = re.compile(r"[\W_]+")


@pytest.fixture(scope="module")
def fidelity(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Fidelity, Path]]:
    out = tmp_path_factory.mktemp("pdfs")
    return {i: (measure(i, pdf := render_report(i, out)), pdf) for i in IDS}


@pytest.mark.parametrize("document_id", IDS)
def test_outline_recovers_the_section_ids(fidelity: dict[str, tuple[Fidelity, Path]], document_id: str) -> None:
    f, _ = fidelity[document_id]
    assert f.ratio >= MIN_RECOVERED, f"{document_id}: {f.recovered}/{f.expected} section ids"


@pytest.mark.parametrize("document_id", IDS)
def test_text_comes_out_in_reading_order(fidelity: dict[str, tuple[Fidelity, Path]], document_id: str) -> None:
    f, _ = fidelity[document_id]
    assert f.in_order >= MIN_IN_ORDER


def _norm(text: str) -> str:
    return _NOT_ALNUM.sub("", text.replace("**", "").lower())


def _page_texts(pdf: Path) -> list[str]:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return [_norm(page.get_textpage().get_text_range()) for page in doc]
    finally:
        doc.close()


def _spans(f: Fidelity) -> list[tuple[int, int]]:
    """Body spans of the extracted outline (no tables), evenly sampled."""
    spans: list[tuple[int, int]] = []

    def walk(sections) -> None:
        for s in sections:
            spans.extend(b for b in s.body if "\t" not in f.extracted.text[b[0] : b[1]])
            walk(s.children)

    walk(f.parsed.sections)
    step = max(1, len(spans) // SAMPLES)
    return spans[::step][:SAMPLES]


@pytest.mark.parametrize("document_id", IDS)
def test_passages_lie_on_the_pages_the_page_map_gives(
    fidelity: dict[str, tuple[Fidelity, Path]], document_id: str
) -> None:
    f, pdf = fidelity[document_id]
    pages = _page_texts(pdf)
    wrong = []
    for start, end in _spans(f):
        words = re.sub(r"[#*]", " ", f.extracted.text[start:end]).split()
        first, last = pages_of(f.extracted.pages, start, end)
        head, tail = _norm(" ".join(words[:WORDS])), _norm(" ".join(words[-WORDS:]))
        if head not in pages[first - 1] or tail not in pages[last - 1]:
            wrong.append((first, last, " ".join(words[:WORDS]), " ".join(words[-WORDS:])))
    assert wrong == []
