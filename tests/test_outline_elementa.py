"""Outline of the Elementa summary: narrative sections around a Goal > Area > Objective report."""

from __future__ import annotations

import re

import pytest

from core.types import ParsedDocument
from tests.outline_checks import of_kind, parse, span_text, uncovered_lines

DOC_ID = "elementa-warlike-approach-2024"

# Written independently of the parser's patterns, so a drift in either shows.
PAGE_NUMBER = re.compile(r"\s*\d{1,3}\s*")
FOOTNOTE = re.compile(r"(\d{1,2}|[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2}) (\S.*)")
SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


@pytest.fixture(scope="module")
def doc() -> ParsedDocument:
    return parse(DOC_ID)


def test_top_level_sections_around_the_compliance_report(doc: ParsedDocument) -> None:
    # Headings are plain lines, found by the shape rule of elementa._is_heading.
    assert [(s.kind, s.title) for s in doc.sections] == [
        ("section", "Warlike Approach to Drug Policy during AMLO's Administration: An assessment"),
        ("section", "Findings"),
        ("section", "Shift in the war narrative, ongoing military presence"),
        ("section", "Actions that perpetuated the war strategy"),
        ("section", "The influence of the military and the corruption networks"),
        ("section", "The Bicentennial Agreement and the ongoing fight against illegal drug trade"),
        ("section", "Bilateral Agreement's Compliance Report"),
        ("section", "In-depth review of the Armed Forces' strategies in combating the illicit drug trade"),
        ("section", "Transformation of the illegal drug market"),
        ("section", "About this publication"),  # the credits: no heading of their own
    ]


def test_goals_sit_in_the_compliance_report_section(doc: ParsedDocument) -> None:
    report = doc.sections[6]
    assert [(g.kind, g.number, g.title) for g in report.children] == [
        ("goal", "1", "Protecting our citizens"),
        ("goal", "2", "Preventing cross-border crimes"),
        ("goal", "3", "Dismantling criminal networks"),
    ]
    assert [g.number for g in of_kind(doc, "goal")] == ["1", "2", "3"]
    assert report.body == ()


def test_area_titles_per_goal(doc: ParsedDocument) -> None:
    # Prefixes vary ("Area of Cooperation:", "Area of cooperation:", "Cooperation Area:")
    # and "Public Health ²⁴:" carries a footnote marker; titles have neither.
    assert {g.number: [a.title for a in g.children] for g in of_kind(doc, "goal")} == {
        "1": ["Public Health", "Support for safer communities", "Reducing homicides and high-impact crimes"],
        "2": ["Reducing human trafficking and migrant smuggling"],
        "3": ["Enhance extradition-related cooperation between the United States and Mexico"],
    }
    assert all(a.kind == "area" and a.number is None for a in of_kind(doc, "area"))


def test_objective_numbers_restart_in_each_area(doc: ParsedDocument) -> None:
    assert [(a.title, [o.number for o in a.children]) for a in of_kind(doc, "area")] == [
        ("Public Health", ["1", "2"]),
        ("Support for safer communities", ["1", "2"]),
        ("Reducing homicides and high-impact crimes", ["1"]),
        ("Reducing human trafficking and migrant smuggling", ["1"]),
        ("Enhance extradition-related cooperation between the United States and Mexico", ["1"]),
    ]
    assert all(o.kind == "objective" for a in of_kind(doc, "area") for o in a.children)


def test_objective_title_is_its_text_without_markup(doc: ParsedDocument) -> None:
    first = of_kind(doc, "objective")[0]
    # Source: "Promote **public policies ... disorders.**²"
    assert first.title == (
        "Promote public policies for the treatment and support of individuals with "
        "psychoactive substance use disorders."
    )
    assert span_text(doc, first.heading) == "Objective 1"
    assert span_text(doc, first.body[0]).startswith("Promote **public policies")


def test_objective_body_holds_its_blocks(doc: ParsedDocument) -> None:
    for objective in of_kind(doc, "objective"):
        blocks = [span_text(doc, span) for span in objective.body]
        assert "Measure / Responsible entity" in blocks
        assert "Indicator" in blocks
        assert "Current status" in blocks


def test_sub_headings_nest_in_their_section(doc: ParsedDocument) -> None:
    # Bold bullet lines ("- **Deployment:**") are sub-headings of the section they stand in.
    assert {s.title: [c.title for c in s.children] for s in doc.sections if s.kind == "section"} == {
        "Warlike Approach to Drug Policy during AMLO's Administration: An assessment": [],
        "Findings": [],
        "Shift in the war narrative, ongoing military presence": [],
        "Actions that perpetuated the war strategy": [],
        "The influence of the military and the corruption networks": [],
        "The Bicentennial Agreement and the ongoing fight against illegal drug trade": [],
        "Bilateral Agreement's Compliance Report": [
            "Protecting our citizens",
            "Preventing cross-border crimes",
            "Dismantling criminal networks",
        ],
        "In-depth review of the Armed Forces' strategies in combating the illicit drug trade": [
            "Deployment",
            "Volume of seizures",
            "Substance Seizures from 2018 to 2023",
        ],
        "Transformation of the illegal drug market": ["Emerging Epicenters of Violence"],
        "About this publication": [],
    }


def test_title_page_heading_is_the_title_block(doc: ParsedDocument) -> None:
    cover = doc.sections[0]
    heading = span_text(doc, cover.heading)
    assert heading.startswith("WARLIKE APPROACH") and heading.endswith("An assessment")
    assert [span_text(doc, span)[:30] for span in cover.body] == ["Throughout the administration,"]


def test_short_quoted_and_memo_lines_are_not_headings(doc: ParsedDocument) -> None:
    # The Spanish memo excerpt and the quotation attributions stay in the body.
    market = doc.sections[8]
    blocks = [span_text(doc, span) for span in market.body]
    for line in ("Consideraciones", "POSTURA", "ANTECEDENTES.", "COATZACOALCOS, VER."):
        assert line in blocks
    epicenters = market.children[0]
    assert "—Andrés Manuel López Obrador" in [span_text(doc, span) for span in epicenters.body]


def test_no_body_span_holds_a_footnote_or_page_number(doc: ParsedDocument) -> None:
    for s in doc.walk():
        for span in s.body:
            for line in span_text(doc, span).splitlines():
                assert not PAGE_NUMBER.fullmatch(line), (s.id, line)
                assert not FOOTNOTE.fullmatch(line), (s.id, line)


def test_inline_footnote_markers_stay_in_the_text(doc: ParsedDocument) -> None:
    findings = doc.sections[1]
    assert "Armed Forces¹ continued" in span_text(doc, findings.body[0])


def test_paragraph_split_by_footnotes_continues_in_the_same_section(doc: ParsedDocument) -> None:
    findings = doc.sections[1]
    assert span_text(doc, findings.body[1]).startswith("eradicating drug crops")


# --- generic span checks -------------------------------------------------------------


def test_only_page_numbers_and_footnotes_are_uncovered(doc: ParsedDocument) -> None:
    uncovered = [line for _, line in uncovered_lines(doc)]
    pages = [line for line in uncovered if PAGE_NUMBER.fullmatch(line)]
    notes = [m for line in uncovered if (m := FOOTNOTE.fullmatch(line))]
    assert len(pages) + len(notes) == len(uncovered)
    assert pages == ["1", "2", "4", "5", "6", "12", "16", "20", "21", "27"]
    # Every footnote 1..72 is dropped exactly once, in order, and nothing else.
    assert [int(m.group(1).translate(SUPERSCRIPT_DIGITS)) for m in notes] == list(range(1, 73))
