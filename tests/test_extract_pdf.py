"""PDF extraction: reading order, running headers and footers, hyphenation, ligatures, headings, tables, pages.

Each test draws a small PDF with reportlab, placing every line itself, so the
layout under test is exactly the one described.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from corpus.extract import extract, pages_of
from tests.pdf_fixtures import _fonts, _styles

W, H = A4
Line = tuple[float, float, str, float, bool]  # x, y from the top, text, size, bold


def draw(path: Path, pages: list[list[Line]], *, title: str = "", author: str = "") -> Path:
    font = _fonts()
    canvas = Canvas(str(path), pagesize=A4, invariant=1)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    for lines in pages:
        for x, y, text, size, bold in lines:
            canvas.setFont(f"{font}-Bold" if bold else font, size)
            canvas.drawString(x, H - y, text)
        canvas.showPage()
    canvas.save()
    return path


def body(x: float, y: float, texts: list[str], size: float = 10) -> list[Line]:
    """Lines of one paragraph, 12.5 pt apart."""
    return [(x, y + 12.5 * i, t, size, False) for i, t in enumerate(texts)]


FILLER = [
    "Member states reported their progress on every objective of the plan,",
    "with figures for each year of the round and the institutions involved",
    "in carrying out the priority actions the commission had agreed upon.",
]


def test_two_columns_read_left_column_first(tmp_path: Path) -> None:
    left = [f"Left column line {i} of the first part of the text." for i in range(12)]
    right = [f"Right column line {i} of the second part of the text." for i in range(12)]
    pdf = draw(
        tmp_path / "two.pdf",
        [
            [
                (60, 60, "A title set across both columns of the page", 10, False),
                *body(60, 100, left),
                *body(310, 100, right),
            ]
        ],
    )
    text = extract(pdf).text
    assert text.index("A title set across") < text.index("Left column line 0")
    assert text.index("Left column line 11") < text.index("Right column line 0")
    assert "Left column line 3 of the first part of the text. Left column line 4" in text


def test_running_header_footer_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    pages = [
        [
            (60, 30, "Annual Report on Drug Policy 2024", 8, False),
            *body(60, 100, [f"Page {n} opens with its own text about topic {n}.", *FILLER]),
            (290, 800, str(n), 8, False),
        ]
        for n in (1, 2, 3)
    ]
    extracted = extract(draw(tmp_path / "hf.pdf", pages))
    assert "Annual Report" not in extracted.text
    assert extracted.text.rstrip("\n").split("\n\n") == [
        f"Page {n} opens with its own text about topic {n}. " + " ".join(FILLER) for n in (1, 2, 3)
    ]


def test_hyphenated_line_ends_are_joined(tmp_path: Path) -> None:
    lines = [
        "The commission supports inter-",
        "national cooperation and the anti-",
        "drug strategy; every anti-drug programme and the well-",
        "known plans are evaluated.",
    ]
    text = extract(draw(tmp_path / "hy.pdf", [[*body(60, 100, lines), *body(60, 200, FILLER)]])).text
    assert text.split("\n\n")[0] == (
        "The commission supports international cooperation and the anti-drug strategy; "
        "every anti-drug programme and the wellknown plans are evaluated."
    )


def test_ligatures_are_normalised(tmp_path: Path) -> None:
    text = extract(draw(tmp_path / "lig.pdf", [body(60, 100, ["The ﬁnancial oﬃce ﬂagged the ﬁles.", *FILLER])])).text
    assert text.startswith("The financial office flagged the files.")


def test_headings_from_font_size_and_weight(tmp_path: Path) -> None:
    pdf = draw(
        tmp_path / "h.pdf",
        [
            [
                (60, 60, "Evaluation Report", 18, True),
                (60, 100, "Thematic area one", 14, True),
                (60, 130, "Objective 1", 10, True),
                *body(60, 160, FILLER),
                (60, 220, "Thematic area two", 14, True),
                *body(60, 250, FILLER),
            ]
        ],
    )
    blocks = extract(pdf).text.split("\n\n")
    assert blocks[:3] == ["# Evaluation Report", "## Thematic area one", "**Objective 1**"]
    assert blocks[4] == "## Thematic area two"


def test_inline_bold_is_kept_and_list_items_stay_on_their_lines(tmp_path: Path) -> None:
    font = _fonts()
    pdf = tmp_path / "list.pdf"
    canvas = Canvas(str(pdf), pagesize=A4, invariant=1)
    y = H - 100
    for text in ("1. The first item of the list of findings", "2. The second item of the list of findings"):
        canvas.setFont(font, 10)
        canvas.drawString(60, y, text)
        y -= 12.5
    canvas.setFont(font, 10)
    canvas.drawString(60, y, "- ")
    canvas.setFont(f"{font}-Bold", 10)
    canvas.drawString(60 + canvas.stringWidth("- ", font, 10), y, "Deployment:")
    for i, t in enumerate(FILLER):
        canvas.setFont(font, 10)
        canvas.drawString(60, y - 40 - 12.5 * i, t)
    canvas.save()
    blocks = extract(pdf).text.split("\n\n")
    assert blocks[0] == (
        "1. The first item of the list of findings\n2. The second item of the list of findings\n- **Deployment:**"
    )


def test_tables_are_tab_separated_rows_under_their_header(tmp_path: Path) -> None:
    pdf = tmp_path / "t.pdf"
    table = Table([["Institution", "2023", "2024"], ["Health", "6,801", "7,111"], ["Navy", "1,633", "1,852"]])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
    prose = Paragraph(" ".join(FILLER), _styles()["body"])
    SimpleDocTemplate(str(pdf), pagesize=A4, invariant=1).build([prose, table, prose])
    blocks = extract(pdf).text.split("\n\n")
    assert blocks[1] == "Institution\t2023\t2024\nHealth\t6,801\t7,111\nNavy\t1,633\t1,852"


def test_page_map_and_metadata(tmp_path: Path) -> None:
    pages = [
        [
            (60, 60, "Drug Policy Assessment", 18, True),
            (60, 90, "Lima, 16 August 2019", 10, False),
            *body(60, 120, FILLER),
        ],
        body(60, 100, ["Second page text on alternative development programmes.", *FILLER]),
    ]
    extracted = extract(draw(tmp_path / "m.pdf", pages, title="", author="UNODC"))
    second = extracted.text.index("Second page text")
    assert len(extracted.pages) == 2
    assert pages_of(extracted.pages, 0, 10) == (1, 1)
    assert pages_of(extracted.pages, second, second + 20) == (2, 2)
    assert pages_of(extracted.pages, 0, second + 20) == (1, 2)
    assert (extracted.title, extracted.publisher, extracted.date) == ("Drug Policy Assessment", "UNODC", "2019-08-16")
    assert (extracted.format, extracted.ocr) == ("pdf", False)


def test_metadata_title_wins_over_the_first_page(tmp_path: Path) -> None:
    pdf = draw(
        tmp_path / "t.pdf", [[(60, 60, "Cover Words", 18, True), *body(60, 100, FILLER)]], title="The Real Title"
    )
    assert extract(pdf).title == "The Real Title"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 5, (1, 1)),
        (9, 10, (1, 1)),
        (10, 11, (2, 2)),
        (5, 25, (1, 3)),
        (29, 30, (3, 3)),
        (5, 5, None),
        (29, 31, None),
    ],
)
def test_pages_of(start: int, end: int, expected: tuple[int, int] | None) -> None:
    assert pages_of(((0, 10), (10, 20), (20, 30)), start, end) == expected


def test_pages_of_without_pages() -> None:
    assert pages_of((), 0, 10) is None


def test_two_columns_whose_baselines_drift_apart_stay_apart(tmp_path: Path) -> None:
    left = [f"left words {i} stay in the left column." for i in range(14)]
    right = [f"right words {i} stay in the right column." for i in range(14)]
    pdf = draw(tmp_path / "drift.pdf", [[*body(60, 100, left), *body(310, 105, right)]])  # 5 pt lower
    blocks = extract(pdf).text.rstrip("\n").split("\n\n")
    assert blocks == [" ".join(left), " ".join(right)]
