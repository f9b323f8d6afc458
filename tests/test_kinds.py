"""The section-kind vocabulary (``corpus.kinds``) drives citations and routing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.types import SectionRef
from corpus.kinds import KINDS, SectionKind, label_of, register_kind
from qa.route import parse_refs


def test_a_numbered_kind_is_cited_by_its_label() -> None:
    assert label_of("priority_action", "2.6", "Priority Action 2.6 details") == "Priority Action 2.6"


def test_a_kind_without_a_label_is_cited_by_its_title() -> None:
    assert label_of("thematic_area", None, "Institutional Strengthening") == "Institutional Strengthening"


@pytest.fixture
def article_kind() -> Iterator[None]:
    register_kind(SectionKind("article", "Article", r"\b(?:articles?|art[ií]culos?)", 9))
    yield
    del KINDS["article"]


def test_a_registered_kind_routes_in_english_and_spanish(article_kind: None) -> None:
    assert parse_refs("What does article 5 say?") == (SectionRef("article", "5"),)
    assert parse_refs("¿Qué dice el artículo 5?") == (SectionRef("article", "5"),)


def test_a_registered_kind_reads_ordinals_through_its_label(article_kind: None) -> None:
    assert parse_refs("the third article") == (SectionRef("article", "3"),)


def test_without_the_kind_the_same_words_route_nowhere() -> None:
    assert parse_refs("What does article 5 say?") == ()
