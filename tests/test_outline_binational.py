"""Outline of the US-Mexico Binational Drug Strategy (1998), scheme ``binational``."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from core.types import ParsedDocument, Section
from tests.outline_checks import parse, partly_covered_lines, uncovered_lines

DOC_ID = "us-mexico-binational-drug-strategy-1998"
KINDS = {"section", "alliance_point", "objective", "action"}

# Objective numbers of each alliance point, read off the "Objectives" list of
# every strategy component in the file (not produced by the parser).
OBJECTIVES: dict[str, list[str]] = {
    "1": ["1", "2", "3"],
    "2": ["1", "2", "3"],
    "3": ["1", "2", "3", "4", "5"],
    "4": ["1", "2", "3"],
    "5": ["1", "2", "3"],
    "6": ["1", "2", "3", "4"],
    "7": ["1", "2"],
    "8": ["1", "2"],
    "9": ["1", "2", "3", "4", "5"],
    "10": ["1", "2", "3"],
    "11": ["1", "2", "3"],
    "12": ["1", "2", "3", "4", "5"],
    "13": ["1", "2", "3"],
    "14": ["1", "2", "3", "4", "5"],
    "15": ["1", "2", "3", "4"],
    "16": ["1", "2", "3", "4"],
}

# Action numbers of each alliance point in document order, read off the
# "Actions" lists of the file (space-separated here for readability).
_ACTIONS_READ: dict[str, str] = {
    "1": "1 1.1 1.2 1.3 1.4 1.5 2 2.1 2.2 2.3 2.4 3 3.1 3.2 3.3 3.4 3.5 3.5.1 3.6 3.7 3.8 3.9",
    "2": "1 1.1 1.2 2 3 4",
    "3": "1 1.1 1.1.1 1.2 1.3 2 3 4 5",
    "4": "1 1.1 2 3 4 4.1 4.1.1",
    "5": "1 2 3 4 5 6",
    "6": "1 1.1 2 3 4 5 5.1 5.2 5.3 5.4 6 7 8",
    "7": "1 2 3 4 5 6",
    "8": "1 2",
    "9": "1 2 3 4 5 6 6.1 7 8",
    "10": "1 2 3 4 4.1 5 6 7 8 9",
    "11": "1 1.1 1.1.1 1.1.2 2 3 4 5 6 7",
    "12": "1 1.1 1.2 1.3 1.4 1.4.1 1.4.2 1.5 1.6 2 3 4 5 5.1 5.2 5.3 5.4 5.4.1 6",
    "13": "1 2 3 4 5",
    "14": "1 2 3 4 5 6",
    "15": "1 2 2.1 2.2 3 4 5 6 7 8 9 10",
    "16": "1 2 3 4",
}
ACTIONS: dict[str, list[str]] = {n: numbers.split() for n, numbers in _ACTIONS_READ.items()}

# Lines the parser drops on purpose: the component label before each alliance
# point, the two list labels in each, and three stray page numbers (10, 15, 16).
NOISE = Counter({"Strategy Component": 16, "Objectives": 16, "Actions": 16, "10": 1, "15": 1, "16": 1})


@pytest.fixture(scope="module")
def parsed() -> ParsedDocument:
    return parse(DOC_ID)


@pytest.fixture(scope="module")
def points(parsed: ParsedDocument) -> dict[str, Section]:
    return {s.number: s for s in parsed.sections if s.kind == "alliance_point"}


def _actions(section: Section) -> list[Section]:
    return [s for s in section.walk() if s.kind == "action"]


def test_kinds_are_the_contracted_ones(parsed: ParsedDocument) -> None:
    assert {s.kind for s in parsed.walk()} <= KINDS


def test_top_level_is_front_sections_then_sixteen_alliance_points(parsed: ParsedDocument) -> None:
    # The four indented headings before the first "Strategy Component"; no text follows point 16.
    assert [(s.kind, s.number, s.title) for s in parsed.sections[:4]] == [
        ("section", None, "Foreword"),
        ("section", None, "Introduction"),
        ("section", None, "General Objectives"),
        ("section", None, "Specific Objectives"),
    ]
    assert [(s.kind, s.number) for s in parsed.sections[4:]] == [("alliance_point", str(n)) for n in range(1, 17)]


def test_front_sections_have_no_children(parsed: ParsedDocument) -> None:
    assert all(not s.children for s in parsed.sections[:4])


def test_early_alliance_point_list_is_body_of_specific_objectives(parsed: ParsedDocument) -> None:
    specific = parsed.sections[3]
    texts = [parsed.text[a:b] for a, b in specific.body]
    # One lead-in sentence and one paragraph per point; point 13 follows point 12
    # without a blank line (page break) and still gets its own span.
    assert len(texts) == 17
    assert [t.split(":")[0] for t in texts[1:]] == [f"Alliance Point {n}" for n in range(1, 17)]


def test_objective_numbers_per_alliance_point(points: dict[str, Section]) -> None:
    got = {n: [c.number for c in ap.children if c.kind == "objective"] for n, ap in points.items()}
    assert got == OBJECTIVES


def test_action_numbers_per_alliance_point(points: dict[str, Section]) -> None:
    assert {n: [a.number for a in _actions(ap)] for n, ap in points.items()} == ACTIONS


def test_objectives_have_no_children(points: dict[str, Section]) -> None:
    # Objectives and actions are siblings under the point; an objective is a leaf.
    for ap in points.values():
        for obj in (c for c in ap.children if c.kind == "objective"):
            assert obj.children == ()


def test_lead_actions_hang_directly_under_the_alliance_point(points: dict[str, Section]) -> None:
    # Every undotted action number ("1", "2", ...) is a direct child of its point,
    # whether or not an objective of that number exists (point 7: 2 objectives, 6 actions).
    for n, ap in points.items():
        direct = [c.number for c in ap.children if c.kind == "action"]
        assert direct == [a for a in ACTIONS[n] if "." not in a]


def test_dotted_actions_sit_under_their_lead_action(points: dict[str, Section]) -> None:
    for ap in points.values():
        for lead in (c for c in ap.children if c.kind == "action"):
            for child in lead.children:
                assert child.kind == "action"
                assert child.number.rsplit(".", 1)[0] == lead.number


def test_sub_actions_are_children_of_their_parent_action(parsed: ParsedDocument) -> None:
    for section in parsed.walk():
        for child in section.children:
            if child.kind == "action" and child.number.count(".") == 2:
                assert section.kind == "action"
                assert child.number.rsplit(".", 1)[0] == section.number


def test_orphan_action_keeps_its_sub_actions(points: dict[str, Section]) -> None:
    # Point 6 has 4 objectives; action 5 carries 5.1-5.4.
    action5 = next(c for c in points["6"].children if c.kind == "action" and c.number == "5")
    assert [c.number for c in action5.children] == ["5.1", "5.2", "5.3", "5.4"]


def test_alliance_point_titles(points: dict[str, Section]) -> None:
    assert points["1"].title == (
        "Reduce the demand for illicit drugs through the intensification of anti-drug information and "
        "educational efforts, particularly those directed at young people, and through rehabilitative "
        "programs."
    )
    # The component's own statement (", and ensure"), not the early list's "; and ensure".
    assert points["16"].title == (
        "Enhance and facilitate exchange of information and evidence to prosecute and convict criminals "
        "and deter drug trafficking, and ensure the security and appropriate use of the information and "
        "evidence provided."
    )


def test_objective_title(points: dict[str, Section]) -> None:
    obj1 = points["5"].children[0]
    assert (obj1.kind, obj1.number) == ("objective", "1")
    assert obj1.title == (
        "Intensify in each country, with due regard for the jurisdiction of the responsible agencies in "
        "both party’s territory, the location of fugitives, with a view to arresting, prosecuting, "
        "extraditing or deporting/expelling a greater number of fugitives."
    )


def test_action_titles(points: dict[str, Section]) -> None:
    by_number = {a.number: a for a in _actions(points["1"])}
    # "drug\n\nabuse." is one item broken by a blank line.
    assert by_number["3.5"].title == (
        "Both governments will enhance the research on the prevention and treatment of drug abuse."
    )
    # A multi-sentence action is titled by its first sentence; the body keeps all.
    action1 = _actions(points["16"])[0]
    assert action1.title == (
        "The Governments of Mexico and the United States will strengthen mechanisms for exchange of "
        "information, witnesses, and evidence as expeditiously as possible."
    )


def test_alliance_point_heading_is_the_statement(parsed: ParsedDocument, points: dict[str, Section]) -> None:
    for n, ap in points.items():
        heading = parsed.text[ap.heading[0] : ap.heading[1]]
        assert heading.startswith(f"Alliance Point {n}:")
        # The title is the statement after "Alliance Point N:", lines joined ("anti-\ndrug" -> "anti-drug").
        statement = re.sub(r"-\s*\n\s*", "-", heading.split(":", 1)[1])
        assert " ".join(statement.split()) == ap.title


def test_alliance_point_body_is_the_intro(parsed: ParsedDocument, points: dict[str, Section]) -> None:
    bodies = [parsed.text[a:b] for a, b in points["1"].body]
    assert len(bodies) == 4
    assert bodies[0].startswith("The demand for drugs is a key factor")
    assert bodies[-1].endswith("particularly along the common border.")


def test_item_bodies_start_with_their_number(parsed: ParsedDocument) -> None:
    for s in parsed.walk():
        if s.kind in ("objective", "action"):
            assert s.heading is None
            first = parsed.text[s.body[0][0] : s.body[0][1]]
            assert re.match(rf"{re.escape(s.number)}\.?\s", first), (s.id, first[:20])


def test_titles_are_clean(parsed: ParsedDocument) -> None:
    for s in parsed.walk():
        assert s.title and s.title == " ".join(s.title.split()), s.id
        assert not re.search(r"[*#<>]", s.title), s.id


def test_uncovered_lines_are_exactly_the_noise(parsed: ParsedDocument) -> None:
    assert partly_covered_lines(parsed) == []
    assert Counter(line for _, line in uncovered_lines(parsed)) == NOISE
