"""DOCX, HTML, Markdown and plain text into the corpus's text form, with their metadata."""

from __future__ import annotations

import datetime
from pathlib import Path

import docx

from corpus.extract import extract

PROSE = (
    "Member states reported their progress on every objective of the plan, with figures for each "
    "year of the round and the institutions involved in carrying out the priority actions."
)


def test_docx_heading_styles_tables_and_lists(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "National Drug Strategy"
    document.core_properties.author = "Ministry of Health"
    document.core_properties.created = datetime.datetime(2023, 5, 4, tzinfo=datetime.UTC)
    document.add_heading("National Drug Strategy", level=0)
    document.add_heading("Chapter IV", level=1)
    document.add_paragraph(PROSE)
    document.add_heading("Article 5", level=2)
    document.add_paragraph("Prevention in schools", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip(table._cells, ["Year", "Budget", "2023", "1,200"], strict=True):
        cell.text = text
    path = tmp_path / "strategy.docx"
    document.save(str(path))

    extracted = extract(path)
    assert extracted.text == (
        f"# National Drug Strategy\n\n# Chapter IV\n\n{PROSE}\n\n## Article 5\n\n"
        "- Prevention in schools\n\nYear\tBudget\n2023\t1,200\n"
    )
    assert (extracted.format, extracted.pages) == ("docx", ())
    assert (extracted.title, extracted.publisher, extracted.date) == (
        "National Drug Strategy",
        "Ministry of Health",
        "2023-05-04",
    )


def test_html_headings_paragraphs_lists_tables_and_meta(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(
        "<html><head><title>HONLAC Report</title><meta name='author' content='UNODC'>"
        "<meta name='date' content='2019-08-16'><style>p{color:red}</style></head>"
        "<body><nav><a href='/'>Home</a></nav><h1>Issue 1. Trafficking</h1>"
        f"<p>{PROSE}</p><h2>Recommendation 1</h2><ul><li>Train officers</li><li>Share data</li></ul>"
        "<table><tr><th>Country</th><th>Replies</th></tr><tr><td>Chile</td><td>3</td></tr></table>"
        "<script>var x = 1;</script></body></html>",
        encoding="utf-8",
    )
    extracted = extract(page)
    assert extracted.text == (
        f"# Issue 1. Trafficking\n\n{PROSE}\n\n## Recommendation 1\n\n- Train officers\n\n- Share data\n\n"
        "Country\tReplies\nChile\t3\n"
    )
    assert (extracted.format, extracted.title, extracted.publisher, extracted.date) == (
        "html",
        "HONLAC Report",
        "UNODC",
        "2019-08-16",
    )


def test_markdown_is_kept_as_is(tmp_path: Path) -> None:
    text = f"Lima, 7 October 2019\n\n# Goal 2\n\n{PROSE}\n"
    path = tmp_path / "notes.md"
    path.write_text(text, encoding="utf-8")
    extracted = extract(path)
    assert (extracted.text, extracted.format, extracted.title, extracted.date) == (
        text,
        "markdown",
        "Goal 2",
        "2019-10-07",
    )


def test_plain_text_is_kept_as_is_with_its_line_endings(tmp_path: Path) -> None:
    text = f"Fact Sheet\r\n\r\n{PROSE}\r\n"
    path = tmp_path / "sheet.txt"
    path.write_bytes(text.encode("utf-8"))
    extracted = extract(path)
    assert (extracted.text, extracted.format, extracted.title) == (text, "text", "Fact Sheet")


def test_a_text_files_title_is_its_first_heading_not_the_publishers_mark(tmp_path: Path) -> None:
    # How the MEM report's text opens: the logo's word in bold, the motto, then the title.
    path = tmp_path / "mem.txt"
    path.write_text(
        f"\n\n**OAS**\n\nMore rights for more people\n\n# MULTILATERAL EVALUATION MECHANISM (MEM)\n\n{PROSE}\n",
        encoding="utf-8",
    )
    assert extract(path).title == "MULTILATERAL EVALUATION MECHANISM (MEM)"


def test_a_text_files_title_is_its_first_line_of_two_words_or_more(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(f"16 August 2019\n\nCICAD\n\nNational Drug Plan\n\n{PROSE}\n", encoding="utf-8")
    assert extract(path).title == "National Drug Plan"
