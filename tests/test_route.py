"""Section references in questions, and how they resolve against the real outline."""

from __future__ import annotations

import pytest

from core.types import Section, SectionRef
from corpus import load_catalog, load_corpus
from qa.route import named_documents, parse_refs, route

IS = "mem-mexico-2024/thematic_area-institutional-strengthening"
PTR = "mem-mexico-2024/thematic_area-measures-of-prevention-treatment-and-recovery"
CC = "mem-mexico-2024/thematic_area-measures-to-control-and-counter-the-illicit"
HONLAC = "unodc-honlac-29-2019"
BI = "us-mexico-binational-drug-strategy-1998"
EL = "elementa-warlike-approach-2024/section-bilateral-agreement-s-compliance-report"

# The catalog: report names and Spanish area names come from it.
DOCS = load_catalog()


@pytest.fixture(scope="module")
def sections() -> list[Section]:
    return [s for doc in load_corpus() for s in doc.walk()]


@pytest.mark.parametrize(
    ("query", "refs"),
    [
        ("What does priority action 2.6 say?", [("priority_action", "2.6")]),
        ("PA 3.4 under prevention", [("priority_action", "3.4")]),
        ("objective 10 of control and counter", [("objective", "10")]),
        ("recommendation 12", [("recommendation", "12")]),
        ("Recs 3 and 4", [("recommendation", "3"), ("recommendation", "4")]),
        ("alliance point 5", [("alliance_point", "5")]),
        ("paragraph 57", [("paragraph", "57")]),
        ("para. 12", [("paragraph", "12")]),
        ("priority actions 2.1, 2.4 and 2.5", [("priority_action", n) for n in ("2.1", "2.4", "2.5")]),
        ("action 3.5.1 of the binational strategy", [("action", "3.5.1")]),
        ("the third objective under prevention", [("objective", "3")]),
        ("What is the fifth alliance point?", [("alliance_point", "5")]),
        ("Does Mexico certify rehabilitation staff?", []),
        ("¿Qué dice la acción prioritaria 2.6?", [("priority_action", "2.6")]),
        ("objetivo 4", [("objective", "4")]),
        ("recomendación 11", [("recommendation", "11")]),
        ("rec. 11", [("recommendation", "11")]),
        ("punto de alianza 5", [("alliance_point", "5")]),
        ("párrafo 57", [("paragraph", "57")]),
        ("tema 3", [("issue", "3")]),
        ("meta 2", [("goal", "2")]),
        ("objetivo 2 de la meta 1", [("objective", "2"), ("goal", "1")]),
        ("acciones prioritarias 2.1 y 2.4", [("priority_action", "2.1"), ("priority_action", "2.4")]),
        ("presupuesto para 2024", []),
    ],
)
def test_parse_refs(query: str, refs: list[tuple[str, str]]) -> None:
    assert parse_refs(query) == tuple(SectionRef(k, n) for k, n in refs)


def test_priority_action_is_not_also_read_as_a_plain_action() -> None:
    assert parse_refs("priority action 2.6") == (SectionRef("priority_action", "2.6"),)


def test_area_words_pick_the_one_priority_action(sections: list[Section]) -> None:
    assert [s.id for s in route("PA 3.4 under prevention", sections, DOCS).sections] == [
        f"{PTR}/objective-3/priority_action-3.4"
    ]


def test_ambiguous_number_returns_every_matching_section(sections: list[Section]) -> None:
    # Priority action 3.4 exists under three thematic areas.
    ids = [s.id for s in route("What does priority action 3.4 say?", sections, DOCS).sections]
    assert ids == [
        f"{IS}/objective-3/priority_action-3.4",
        f"{PTR}/objective-3/priority_action-3.4",
        f"{CC}/objective-3/priority_action-3.4",
    ]


def test_objective_number_with_area_words(sections: list[Section]) -> None:
    assert [s.id for s in route("objective 10 of control and counter", sections, DOCS).sections] == [
        f"{CC}/objective-10"
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("recommendation 12", "unodc-honlac-29-2019/issue-3/recommendation-12"),
        ("alliance point 5", "us-mexico-binational-drug-strategy-1998/alliance_point-5"),
        ("paragraph 57", "unodc-honlac-29-2019/issue-2/recommendation-6/paragraph-57"),
    ],
)
def test_report_numbering_routes_to_the_exact_section(sections: list[Section], query: str, expected: str) -> None:
    assert [s.id for s in route(query, sections, DOCS).sections] == [expected]


def test_report_words_narrow_objectives_to_that_report(sections: list[Section]) -> None:
    found = route("objective 2 in the binational strategy alliance point", sections, DOCS).sections
    assert found and all(s.document_id == "us-mexico-binational-drug-strategy-1998" for s in found)


def test_a_question_without_numbers_routes_nowhere(sections: list[Section]) -> None:
    assert route("How much did Mexico spend on its navy?", sections, DOCS).sections == ()


def test_nested_references_read_as_one_path(sections: list[Section]) -> None:
    # Every alliance point has an objective 2; only alliance point 4's is meant.
    found = route("What is objective 2 of Alliance Point 4?", sections, DOCS).sections
    assert [s.id for s in found] == ["us-mexico-binational-drug-strategy-1998/alliance_point-4/objective-2"]


def test_title_words_of_an_area_narrow_outside_mem_too(sections: list[Section]) -> None:
    # Elementa goal 1 has objective 2 under two areas; "public health" names one.
    found = route("Goal 1 objective 2 (public health): current status", sections, DOCS).sections
    assert [s.id for s in found] == [
        "elementa-warlike-approach-2024/section-bilateral-agreement-s-compliance-report/goal-1"
        "/area-public-health/objective-2"
    ]


def test_bare_reference_is_not_topical(sections: list[Section]) -> None:
    assert not route("international cooperation priority action 1.3", sections, DOCS).topical
    assert not route("What does PA 2.6 say?", sections, DOCS).topical


def test_reference_with_a_question_is_topical(sections: list[Section]) -> None:
    assert route("Chile's reply to recommendation 8", sections, DOCS).topical


def test_topic_is_what_is_left_once_reference_filler_and_titles_go(sections: list[Section]) -> None:
    assert route("What did Chile reply to recommendation 8?", sections, DOCS).topic == "chile reply"
    assert route("What does PA 3.4 under prevention say about offenders?", sections, DOCS).topic == "offenders"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Only MEM has a priority action 2.6 in an area whose Spanish name is "Fortalecimiento Institucional".
        (
            "¿Qué dice la acción prioritaria 2.6 del fortalecimiento institucional?",
            f"{IS}/objective-2/priority_action-2.6",
        ),
        # Objective 10 exists in one MEM area only once "Control y Contrarresto" narrows it.
        ("objetivo 10 de medidas de control y contrarresto", f"{CC}/objective-10"),
        ("recomendación 11", f"{HONLAC}/issue-3/recommendation-11"),
        ("párrafo 57", f"{HONLAC}/issue-2/recommendation-6/paragraph-57"),
        ("tema 3", f"{HONLAC}/issue-3"),
        ("objetivo 2 del punto de alianza 4", f"{BI}/alliance_point-4/objective-2"),
    ],
)
def test_spanish_references_route_to_their_section(query: str, expected: str, sections: list[Section]) -> None:
    assert [s.id for s in route(query, sections, DOCS).sections] == [expected]


def test_spanish_goal_and_objective_read_as_one_path(sections: list[Section]) -> None:
    found = [s.id for s in route("objetivo 2 de la meta 1 (salud pública)", sections, DOCS).sections]
    assert found == [f"{EL}/goal-1/area-public-health/objective-2"]


@pytest.mark.parametrize(
    ("query", "document"),
    [
        ("¿Qué dice el MEM sobre el presupuesto?", "mem-mexico-2024"),
        ("según la Estrategia Binacional", BI),
        ("la hoja informativa del Departamento de Estado", "state-inl-mexico-fact-sheet-2005"),
        ("According to the 1998 strategy", BI),
    ],
)
def test_report_names_in_either_language_come_from_the_catalog(query: str, document: str) -> None:
    assert named_documents(query, DOCS) == (document,)
