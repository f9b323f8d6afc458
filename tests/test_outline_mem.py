"""Outline of the MEM Mexico 2024 report as the ``mem`` scheme parses it.

The evaluation part and the annex are merged: thematic area > objective
(statement + CICAD assessment) > priority action (annex details).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from core.types import ParsedDocument, Section
from tests.outline_checks import parse, partly_covered_lines, span_text, uncovered_lines

DOC_ID = "mem-mexico-2024"

AREAS = [
    "Institutional Strengthening",
    "Measures of Prevention, Treatment and Recovery Support",
    "Measures to Control and Counter the Illicit Cultivation, Production, Trafficking, and "
    "Distribution of Drugs, and to Address Their Causes and Consequences",
    "Research, Information, Monitoring, and Evaluation",
    "International Cooperation",
]
IS, PREVENTION, CONTROL, RESEARCH, COOPERATION = AREAS

# Objective numbers restart in every area (Plan of Action 2021-2025).
OBJECTIVES = {
    IS: [str(n) for n in range(1, 7)],
    PREVENTION: [str(n) for n in range(1, 6)],
    CONTROL: [str(n) for n in range(1, 13)],
    RESEARCH: [str(n) for n in range(1, 5)],
    COOPERATION: [str(n) for n in range(1, 3)],
}

# The priority actions the annex updates, in document order.
PRIORITY_ACTIONS = {
    IS: ["1.3", "2.3", "2.6", "2.7", "3.1", "3.4", "3.6"],
    PREVENTION: ["2.1", "2.4", "2.5", "3.3", "3.4", "4.1"],
    CONTROL: ["1.2", "1.7", "1.9", "2.3", "3.4", "5.2", "10.5"],
    RESEARCH: ["1.2", "1.3", "2.1", "2.3", "3.1"],
    COOPERATION: ["1.1", "1.3", "2.1", "2.2"],
}


@pytest.fixture(scope="module")
def doc() -> ParsedDocument:
    return parse(DOC_ID)


def _area(doc: ParsedDocument, title: str) -> Section:
    return next(s for s in doc.sections if s.kind == "thematic_area" and s.title == title)


def _objective(doc: ParsedDocument, area: str, number: str) -> Section:
    return next(o for o in _area(doc, area).children if o.number == number)


def _pa(doc: ParsedDocument, area: str, number: str) -> Section:
    return next(s for s in _area(doc, area).walk() if s.kind == "priority_action" and s.number == number)


def test_top_level_is_cover_preface_five_areas_back_cover(doc: ParsedDocument) -> None:
    # The OAS address after the last priority action is not part of the annex.
    assert [(s.kind, s.title) for s in doc.sections] == [
        ("section", "Cover"),
        ("section", "Preface"),
        *[("thematic_area", t) for t in AREAS],
        ("section", "Back Cover"),
    ]
    assert all(s.number is None for s in doc.sections)


def test_kinds_by_level(doc: ParsedDocument) -> None:
    for area in doc.sections:
        if area.kind != "thematic_area":
            assert area.children == ()
            continue
        assert {o.kind for o in area.children} == {"objective"}
        for objective in area.children:
            assert all(pa.kind == "priority_action" and pa.children == () for pa in objective.children)


def test_cover_keeps_the_report_symbols(doc: ParsedDocument) -> None:
    cover = "\n".join(span_text(doc, span) for span in doc.sections[0].body)
    for symbol in (
        "OEA/Ser.L/XIV.2.76",
        "CICAD/doc.2894/24",
        "ISBN 978-0-8270-7932-8",
        "EIGHTH EVALUATION ROUND",
    ):
        assert symbol in cover


def test_preface_heading_and_paragraphs(doc: ParsedDocument) -> None:
    preface = doc.sections[1]
    assert span_text(doc, preface.heading) == "## PREFACE"
    # Seven paragraphs, one of them split in two by a page break ("...final year of the" / "eighth...").
    assert len(preface.body) == 8
    assert span_text(doc, preface.body[-1]).startswith("It is important to highlight")


def test_objective_numbers_per_area(doc: ParsedDocument) -> None:
    assert {a: [o.number for o in _area(doc, a).children] for a in AREAS} == OBJECTIVES


def test_priority_action_numbers_per_area(doc: ParsedDocument) -> None:
    got = {a: [s.number for s in _area(doc, a).walk() if s.kind == "priority_action"] for a in AREAS}
    assert got == PRIORITY_ACTIONS


def test_each_priority_action_sits_under_its_objective(doc: ParsedDocument) -> None:
    # PA N.M belongs to objective N (so 10.5 sits under Objective 10, not under a 10th child).
    for area in AREAS:
        for objective in _area(doc, area).children:
            for pa in objective.children:
                assert pa.number.split(".")[0] == objective.number, (area, pa.number)


def test_fused_area_and_objective_headings_are_split(doc: ParsedDocument) -> None:
    # "**MEASURES OF PREVENTION...****Objective 1**" stands on one line.
    assert span_text(doc, _area(doc, PREVENTION).heading) == (
        "**MEASURES OF PREVENTION, TREATMENT AND RECOVERY SUPPORT**"
    )
    assert span_text(doc, _objective(doc, PREVENTION, "1").heading) == "**Objective 1**"
    assert span_text(doc, _area(doc, COOPERATION).heading) == "**INTERNATIONAL COOPERATION**"
    assert span_text(doc, _objective(doc, COOPERATION, "1").heading) == "**Objective 1**"


def test_objective_title_is_its_statement(doc: ParsedDocument) -> None:
    assert _objective(doc, IS, "1").title == (
        "Establish and/or strengthen national drug authorities, placing them at a high political level and "
        "providing them with the necessary capabilities, resources, and competencies to coordinate "
        "formulation, implementation, monitoring, and evaluation of national drug policies."
    )
    assert _objective(doc, CONTROL, "12").title == (
        "Address the effects of small-scale drug trafficking on public health, the economy, social "
        "cohesion, and citizen security."
    )


def test_objective_body_is_statement_then_assessment(doc: ParsedDocument) -> None:
    for area in AREAS:
        for objective in _area(doc, area).children:
            assert len(objective.body) >= 2, (area, objective.number)
            assert span_text(doc, objective.body[1]).startswith("CICAD"), (area, objective.number)


def test_prevention_objective_4_body_has_its_statement(doc: ParsedDocument) -> None:
    # The statement is marked up as a "#####" heading but is the objective's text.
    objective = _objective(doc, PREVENTION, "4")
    assert objective.title.startswith("Foster ongoing training and certification")
    assert "certification" in span_text(doc, objective.body[0])


def test_priority_action_title(doc: ParsedDocument) -> None:
    pa = _pa(doc, IS, "2.6")
    assert pa.title.startswith("Integrate a human rights, gender, and social inclusion approach")
    assert span_text(doc, pa.heading).startswith("**Priority Action 2.6:")


def test_titles_are_clean(doc: ParsedDocument) -> None:
    for s in doc.walk():
        assert s.title and s.title == " ".join(s.title.split()), s.id
        assert not re.search(r"[*#<>]", s.title), s.id
        assert not s.title.startswith("Priority Action"), s.id


def test_prevention_2_1_2_4_2_5_share_one_body(doc: ParsedDocument) -> None:
    # Three PA headings stand over one answer (the prevention programs table).
    bodies = [_pa(doc, PREVENTION, n).body for n in ("2.1", "2.4", "2.5")]
    assert bodies[0]
    assert bodies[0] == bodies[1] == bodies[2]
    assert span_text(doc, bodies[0][0]).startswith("Mexico develops and implements the following prevention")


def test_other_priority_actions_have_their_own_bodies(doc: ParsedDocument) -> None:
    shared = {(PREVENTION, "2.1"), (PREVENTION, "2.4"), (PREVENTION, "2.5")}
    seen: set[tuple[int, int]] = set()
    for area in AREAS:
        for pa in (s for s in _area(doc, area).walk() if s.kind == "priority_action"):
            assert pa.body, (area, pa.number)
            if (area, pa.number) not in shared:
                assert seen.isdisjoint(pa.body), (area, pa.number)
                seen.update(pa.body)


def test_page_break_pieces_stay_in_their_priority_action(doc: ParsedDocument) -> None:
    texts = [span_text(doc, s) for s in _pa(doc, IS, "2.3").body]
    assert texts[-2].endswith("there are specific")
    assert texts[-1].startswith("agreements for the transfer of federal resources")
    assert "delinquency" in [span_text(doc, s) for s in _pa(doc, IS, "3.6").body]


def test_tables_stay_whole_with_their_headers(doc: ParsedDocument) -> None:
    table = next(span_text(doc, s) for s in _pa(doc, IS, "1.3").body if s and "\t" in span_text(doc, s))
    assert table.startswith("Institution\tAnnual budget amount (U.S. Dollars)")
    assert table.splitlines()[-1].startswith("National Defense\t")


def test_annex_objective_restatements_are_not_body(doc: ParsedDocument) -> None:
    # e.g. "## FOSTER ONGOING TRAINING AND CERTIFICATION..." only repeats Prevention objective 4.
    # Short all-caps body text ("- **2019**" list items) is fine; a long all-caps span is a restatement.
    for s in doc.walk():
        if s.kind in ("objective", "priority_action"):
            for span in s.body:
                text = span_text(doc, span)
                assert any(c.islower() for c in text) or len(text) < 40, (s.id, text[:60])
    prevention_4 = _objective(doc, PREVENTION, "4")
    assert not any("FOSTER ONGOING" in span_text(doc, b) for pa in prevention_4.children for b in pa.body)


# What the parser leaves out on purpose: separator rules, the part headings, and the annex's
# repeated area headings, objective headings ("OBJECTIVE" / "2" in any markup) and ALL-CAPS
# restatements of the objective (the statement is already the objective's body).
_AREA_KEYS = {re.sub(r"[^a-z]", "", a.lower()) for a in AREAS}


def _category(line: str) -> str:
    clean = " ".join(re.sub(r"<[^>]+>|[*#]", " ", line).split())
    if re.fullmatch(r"-{3,}[\s-]*", line.strip()):
        return "separator"
    if clean in {"COMPREHENSIVE EVALUATION", "ANNEX", "PRIORITY ACTIONS WITH UPDATES"}:
        return "part"
    if re.sub(r"[^a-z]", "", clean.lower()) in _AREA_KEYS:
        return "area"
    if re.fullmatch(r"OBJECTIVE( \d+)?( [^a-z]+)?|\d+", clean):
        return "objective"
    if not any(c.islower() for c in clean):
        return "restatement"
    return "unexpected"


def test_coverage_drops_only_known_lines(doc: ParsedDocument) -> None:
    assert partly_covered_lines(doc) == []
    dropped = [line for _, line in uncovered_lines(doc)]
    # 16 annex objectives: 25 heading lines (split headings take two lines, the HTML one carries its
    # restatement) and 15 separate restatements; 5 annex area headings; 3 part headings; 2 rules.
    assert Counter(_category(line) for line in dropped) == Counter(
        {"objective": 25, "restatement": 15, "area": 5, "part": 3, "separator": 2}
    )
