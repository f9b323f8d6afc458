"""Outline of the UNODC HONLAC 29 report: Issue > Recommendation > numbered paragraph."""

from __future__ import annotations

import re

import pytest

from core.types import ParsedDocument
from tests.outline_checks import of_kind, parse, span_text, uncovered_lines

DOC_ID = "unodc-honlac-29-2019"

# The only non-blank lines no section owns: the two footnotes of the cover page.
NOISE_LINES = [
    "* Available only in English, French and Spanish, which are the working languages of the subsidiary body.",
    "** [UNODC/HONLAC/29/1](#).",
]


@pytest.fixture(scope="module")
def doc() -> ParsedDocument:
    return parse(DOC_ID)


def test_top_level_is_front_section_then_issues(doc: ParsedDocument) -> None:
    assert [(s.kind, s.number) for s in doc.sections] == [
        ("section", None),
        ("issue", "1"),
        ("issue", "2"),
        ("issue", "3"),
        ("issue", "4"),
    ]


def test_front_section_is_the_note_by_the_secretariat(doc: ParsedDocument) -> None:
    front = doc.sections[0]
    assert front.title == "Note by the Secretariat"
    assert span_text(doc, front.heading) == "Note by the Secretariat"
    body = [span_text(doc, span) for span in front.body]
    # Cover text stands before the heading it is fused with; it is the front matter's body.
    assert body[0] == "16 August 2019"
    assert "Lima, 7–11 October 2019" in body
    assert "Item 4 of the provisional agenda**" in body
    assert body[-1].endswith("Latin America and the Caribbean**")
    assert all(span[1] <= front.heading[0] for span in front.body)


def test_issue_titles_drop_the_issue_prefix(doc: ParsedDocument) -> None:
    # Issue 3 is printed "Issue 3:" where the others read "Issue N.".
    assert [s.title for s in of_kind(doc, "issue")] == [
        "New modi operandi in trafficking and trends in concealment methods and transport, "
        "and effective investigative techniques in response thereto",
        "Trends in precursor control, diversion trends and trafficking routes for cocaine "
        "precursors into and through the region",
        "Use of the darknet in the illicit trade in drugs and use of cryptocurrencies for money-laundering",
        "Developing and implementing comprehensive and sustainable alternative development programmes",
    ]


def test_issue_heading_is_its_line(doc: ParsedDocument) -> None:
    for issue in of_kind(doc, "issue"):
        assert re.fullmatch(rf"Issue {issue.number}[.:] .+", span_text(doc, issue.heading))
        assert issue.body == ()


def test_recommendations_are_numbered_across_issues(doc: ParsedDocument) -> None:
    assert {i.number: [r.number for r in i.children] for i in of_kind(doc, "issue")} == {
        "1": ["1", "2", "3", "4", "5"],
        "2": ["6", "7", "8", "9"],
        "3": ["10", "11", "12"],
        "4": ["13", "14", "15", "16", "17"],
    }
    assert [r.number for r in of_kind(doc, "recommendation")] == [str(n) for n in range(1, 18)]


def test_recommendation_heading_body_and_title(doc: ParsedDocument) -> None:
    for rec in of_kind(doc, "recommendation"):
        assert span_text(doc, rec.heading) == f"Recommendation {rec.number}"
        # The body is the one-paragraph statement, and the title is that statement.
        assert len(rec.body) == 1
        statement = span_text(doc, rec.body[0])
        assert statement.startswith(("Governments", "In developing"))
        assert rec.title == statement.replace("*", "")


def test_recommendation_title_drops_markdown(doc: ParsedDocument) -> None:
    rec4 = of_kind(doc, "recommendation")[3]
    assert rec4.title == (
        "Governments should use mechanisms for exchanging information on new trends in drug "
        "trafficking, new concealment methods and modi operandi."
    )


def test_paragraph_numbers_are_exactly_1_to_143(doc: ParsedDocument) -> None:
    # The corpus README says 1-142, but the file numbers 143 paragraphs: the last
    # is "143. Paraguay enacted a law that created SENABICO ...".
    numbers = [p.number for p in of_kind(doc, "paragraph")]
    assert numbers == [str(n) for n in range(1, 144)]


def test_paragraphs_1_to_4_belong_to_the_front_section(doc: ParsedDocument) -> None:
    front = doc.sections[0]
    assert [(c.kind, c.number) for c in front.children] == [("paragraph", str(n)) for n in range(1, 5)]


def test_every_later_paragraph_sits_under_a_recommendation(doc: ParsedDocument) -> None:
    later = [p for p in of_kind(doc, "paragraph") if int(p.number) > 4]
    assert len(later) == 139
    assert all([e.kind for e in p.path] == ["issue", "recommendation", "paragraph"] for p in later)


def test_paragraph_range_under_each_recommendation(doc: ParsedDocument) -> None:
    recs = of_kind(doc, "recommendation")
    ranges = {r.number: (r.children[0].number, r.children[-1].number) for r in recs}
    assert ranges == {
        "1": ("5", "14"),
        "2": ("15", "23"),
        "3": ("24", "33"),
        "4": ("34", "43"),
        "5": ("44", "53"),
        "6": ("54", "63"),
        "7": ("64", "73"),
        "8": ("74", "84"),
        "9": ("85", "94"),
        "10": ("95", "103"),
        "11": ("104", "112"),
        "12": ("113", "120"),
        "13": ("121", "125"),
        "14": ("126", "130"),
        "15": ("131", "133"),
        "16": ("134", "138"),
        "17": ("139", "143"),
    }


def test_paragraph_body_starts_with_its_number(doc: ParsedDocument) -> None:
    for p in of_kind(doc, "paragraph"):
        assert p.heading is None
        assert span_text(doc, p.body[0]).startswith(f"{p.number}. ")


def test_paragraphs_with_no_blank_line_between_them_are_split(doc: ParsedDocument) -> None:
    # 59-63 and 64-66 follow each other line by line, with no blank line between.
    by_number = {p.number: p for p in of_kind(doc, "paragraph")}
    for n in range(59, 67):
        assert len(by_number[str(n)].body) == 1


def test_page_break_tails_stay_with_their_paragraph(doc: ParsedDocument) -> None:
    # Nine paragraphs run over a page break: their tail is an unnumbered block.
    split = {p.number: p for p in of_kind(doc, "paragraph") if len(p.body) > 1}
    assert sorted(split, key=int) == ["10", "18", "26", "34", "52", "67", "98", "127", "136"]
    assert all(len(p.body) == 2 for p in split.values())
    assert span_text(doc, split["10"].body[1]) == (
        "INTERPOL and the system of purple notices is used to detect new drug trafficking *modi operandi*."
    )


def test_paragraph_titles_name_the_replying_country(doc: ParsedDocument) -> None:
    titles = {p.number: p.title for p in of_kind(doc, "paragraph")}
    assert titles["5"] == "Argentina"
    assert titles["13"] == "Paraguay"  # "Agents from the National Anti-Drug Secretariat (SENAD) of Paraguay"
    assert titles["28"] == "France"  # "The French Central Office ..." (not Fort-de-France)
    assert titles["66"] == "Colombia"  # "The Colombian national police ..."
    assert titles["143"] == "Paraguay"
    # The introduction names no reply; 4 lists every replying country, so it too gets its first words.
    assert titles["1"] == "The Twenty-eighth Meeting of Heads of National Drug"
    assert titles["4"] == "As at 9 August 2019, replies had been"


def test_nothing_follows_the_last_paragraph(doc: ParsedDocument) -> None:
    last = doc.walk()[-1]
    assert (last.kind, last.number) == ("paragraph", "143")
    assert last.body[-1][1] == len(doc.text.rstrip())


# --- generic span checks -------------------------------------------------------------


def test_every_line_is_covered_except_the_cover_footnotes(doc: ParsedDocument) -> None:
    # Markdown asterisks left between two spans on a fused line do not count.
    assert [line for _, line in uncovered_lines(doc, ignore="*")] == NOISE_LINES
