"""Outline of the State INL fact sheet on Mexico (2005), scheme ``inl``."""

from __future__ import annotations

import pytest

from core.types import ParsedDocument, Section
from tests.outline_checks import parse, partly_covered_lines, uncovered_lines

DOC_ID = "state-inl-mexico-fact-sheet-2005"
TITLE = "Counternarcotics and Law Enforcement Country Program: Mexico"
NAVIGATION = (
    "Skip Links",
    "Back to top",
    "Privacy Notice",
    "Daily Press Briefing",
    "You are in:",
    "Published by",
)

# 1-based numbers of the non-blank lines dropped on purpose, read off the file:
# lines 1-10 are site navigation up to the "You are in:" breadcrumb; 62-69 are
# "Back to top" and the footer ("Published by ..." is line 69, without newline).
DROPPED_LINES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 62, 64, 65, 66, 67, 69]


@pytest.fixture(scope="module")
def parsed() -> ParsedDocument:
    return parse(DOC_ID)


def _tree(sections: tuple[Section, ...]) -> list[tuple[str, list]]:
    return [(s.title, _tree(s.children)) for s in sections]


def _spans(s: Section) -> list[tuple[int, int]]:
    return ([s.heading] if s.heading else []) + list(s.body)


def test_section_tree(parsed: ParsedDocument) -> None:
    assert _tree(parsed.sections) == [
        (TITLE, []),
        ("Challenges", []),
        ("Key U.S. Counternarcotics Goals", []),
        (
            "U.S. Programs",
            [
                ("Border Control", []),
                ("Narcotics and Crime Law Enforcement/Administration of Justice", []),
                ("Drug Awareness/Demand Reduction/Community Mobilization", []),
            ],
        ),
    ]


def test_all_sections_are_unnumbered_sections(parsed: ParsedDocument) -> None:
    assert {(s.kind, s.number) for s in parsed.walk()} == {("section", None)}


def test_headings_are_the_title_lines(parsed: ParsedDocument) -> None:
    for s in parsed.walk():
        assert parsed.text[s.heading[0] : s.heading[1]] == s.title


def test_header_block_is_body_of_the_title_section(parsed: ParsedDocument) -> None:
    first = parsed.sections[0]
    assert [parsed.text[a:b] for a, b in first.body] == [
        "Fact Sheet\nBureau for International Narcotics and Law Enforcement Affairs\nWashington, DC\nAugust 10, 2005"
    ]


def test_goals_are_one_span_per_bullet(parsed: ParsedDocument) -> None:
    goals = parsed.sections[2]
    bullets = [parsed.text[a:b] for a, b in goals.body]
    assert len(bullets) == 8
    assert all(b.startswith("• ") for b in bullets)
    assert bullets[-1].endswith("mobilize communities against illicit drugs.")


def test_paragraph_counts(parsed: ParsedDocument) -> None:
    # Challenges has three paragraphs; U.S. Programs an intro; each program area one.
    assert [len(s.body) for s in parsed.walk()] == [1, 3, 8, 1, 1, 1, 1]


def test_no_span_contains_navigation(parsed: ParsedDocument) -> None:
    for s in parsed.walk():
        for a, b in _spans(s):
            assert not any(nav in parsed.text[a:b] for nav in NAVIGATION), s.id


def test_uncovered_lines_are_exactly_navigation_and_footer(parsed: ParsedDocument) -> None:
    assert partly_covered_lines(parsed) == []
    assert [number for number, _ in uncovered_lines(parsed)] == DROPPED_LINES
