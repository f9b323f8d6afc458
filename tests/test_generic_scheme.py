"""The generic scheme finds a report's numbered structure from its own words."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from core.types import Document, SectionRef
from corpus import load_catalog, parse_document
from corpus._schemes.generic import parse
from corpus._tree import freeze
from corpus.kinds import KINDS, label_of
from qa.route import parse_refs

STATUTE = """National Drug Law

Preamble text of the law.

CHAPTER I General provisions

Article 1. This law governs the control of narcotic drugs.

Article 2. The National Commission coordinates drug policy.

CHAPTER II Treatment

Article 3. Treatment services are certified by the Ministry of Health.

Article 4. Certification is renewed every three years.
"""


def _doc(text_id: str = "law") -> Document:
    return Document(text_id, "National Drug Law", "Drug Law", "Congress", "2020", "X", "law", "law.txt", "generic")


@pytest.fixture
def statute() -> list:
    known = set(KINDS)
    sections = freeze("law", parse(STATUTE, _doc()))
    yield sections
    for name in set(KINDS) - known:
        del KINDS[name]


def test_recurring_labels_become_kinds_named_by_their_word(statute) -> None:
    chapters = [s for s in statute if s.kind == "chapter"]
    assert [(s.number, s.title) for s in chapters] == [("I", "General provisions"), ("II", "Treatment")]
    assert [(c.kind, c.number) for c in chapters[1].children] == [("article", "3"), ("article", "4")]


def test_a_discovered_kind_is_cited_by_its_word(statute) -> None:
    article = statute[2].children[0]
    assert article.id == "law/chapter-II/article-3"
    assert [el.label for el in article.path] == ["Chapter II", "Article 3"]
    assert label_of("article", "3", "whatever") == "Article 3"


def test_a_discovered_kind_routes_in_english_and_spanish(statute) -> None:
    assert parse_refs("What does article 3 say?") == (SectionRef("article", "3"),)
    assert parse_refs("¿Qué dice el artículo 3?") == (SectionRef("article", "3"),)


def test_a_discovered_kind_is_a_filter(statute) -> None:
    assert KINDS["article"].filter == "number"


def test_a_label_seen_once_is_not_a_kind() -> None:
    sections = freeze("x", parse("Intro\n\nAnnex 1. Tables\n\nText.\n\nSchedule 4 of payments\n", _doc("x")))
    assert {s.kind for s in sections} == {"section"}


def _numbering(parsed) -> Counter:
    return Counter(
        tuple((el.kind, el.number) for el in s.path if el.number is not None) for s in parsed.walk() if s.number
    )


@pytest.mark.parametrize(
    ("document_id", "least"),
    [
        ("unodc-honlac-29-2019", 1.0),
        ("us-mexico-binational-drug-strategy-1998", 1.0),
        ("elementa-warlike-approach-2024", 1.0),
        ("mem-mexico-2024", 0.75),  # the conversion lost some annex objective headings
    ],
)
def test_generic_finds_the_hand_written_outlines_numbering(document_id: str, least: float) -> None:
    document = next(d for d in load_catalog() if d.id == document_id)
    hand = _numbering(parse_document(document))
    found = _numbering(parse_document(replace(document, scheme="generic")))
    assert sum((hand & found).values()) / sum(hand.values()) >= least


def test_a_dotted_number_never_sits_under_another_number() -> None:
    document = next(d for d in load_catalog() if d.id == "mem-mexico-2024")
    for s in parse_document(replace(document, scheme="generic")).walk():
        numbered = [el for el in s.path[:-1] if el.number is not None]
        if s.number and "." in s.number and numbered:
            assert numbered[-1].number == s.number.rsplit(".", 1)[0], s.id


def test_a_plural_heading_with_no_numbered_list_registers_no_kind() -> None:
    known = set(KINDS)
    freeze("x", parse("Intro\n\nRemarks\n\nThe text goes on without numbers.\n", _doc("x")))
    assert set(KINDS) == known
