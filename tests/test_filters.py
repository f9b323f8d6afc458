"""The search filters are defined once (``qa.filters``) and every face derives from them."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from api.routes.search import search_get
from api.schemas import FilterValues, SearchFilters
from cli.main import app
from core.errors import InvalidQueryError
from core.types import Filters
from corpus.kinds import KINDS, SectionKind, register_kind
from qa.filters import filter_names, with_filter_parameters
from qa.retrieve import Retriever

REC12 = "unodc-honlac-29-2019/issue-3/recommendation-12"
BUILT_IN = ["document", "thematic_area", "objective", "priority_action"]
"""The filters of the kinds ``corpus.kinds`` ships (the faces' parameters are built from them at import)."""


def test_unset_filter_values_do_not_restrict() -> None:
    assert not Filters(document=None, thematic_area="")
    assert Filters(document="x", objective=None) == {"document": "x"}


def test_replace_sets_one_filter_and_keeps_the_others() -> None:
    assert Filters(document="a", objective="2").replace(document="b") == {"document": "b", "objective": "2"}


def test_the_filters_are_the_report_and_the_filter_kinds() -> None:
    # Kinds a report's own labels introduced (the generic scheme, in other tests) are filters too.
    assert filter_names() == ["document", *(k.name for k in KINDS.values() if k.filter)]
    assert filter_names()[:4] == BUILT_IN


def test_rest_post_get_and_filter_values_derive_from_the_filters() -> None:
    names = BUILT_IN
    assert list(SearchFilters.model_fields) == names
    assert list(FilterValues.model_fields) == names
    assert [p for p in inspect.signature(search_get).parameters if p in names] == names


def test_cli_ask_offers_every_filter() -> None:
    result = CliRunner().invoke(app, ["ask", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    for name in BUILT_IN:
        assert f"--{name.replace('_', '-')}" in result.output


@pytest.fixture
def recommendation_filter() -> Iterator[None]:
    before = KINDS["recommendation"]
    register_kind(
        SectionKind(
            before.name,
            before.label,
            before.reference,
            before.precedence,
            filter="number",
            filter_help="Only this recommendation number.",
            filter_example="12",
        )
    )
    yield
    register_kind(before)


def test_marking_a_kind_as_a_filter_makes_it_a_filter_of_the_engine(
    fake_retriever: Retriever, recommendation_filter: None
) -> None:
    retriever = Retriever(fake_retriever.index, fake_retriever.embedder, fake_retriever.settings)
    hits = retriever.search("cooperation", k=10, filters=Filters(recommendation="12"))
    assert hits
    assert all(REC12 in h.passage.section_ids[0] for h in hits)
    assert "12" in retriever.valid_filter_values()["recommendation"]


def test_marking_a_kind_as_a_filter_adds_it_to_every_derived_signature(recommendation_filter: None) -> None:
    def face(**filters: str | None) -> None: ...

    with_filter_parameters(face, lambda spec: (str | None, None))
    assert list(inspect.signature(face).parameters) == filter_names()
    assert "recommendation" in inspect.signature(face).parameters


def test_an_unknown_filter_name_is_refused_with_the_valid_ones(fake_retriever: Retriever) -> None:
    with pytest.raises(InvalidQueryError, match="unknown filter 'chapter'; valid: document, thematic_area"):
        fake_retriever.search("anything", filters=Filters(chapter="4"))


def test_a_kind_registered_after_the_index_loaded_filters_with_no_values(fake_retriever: Retriever) -> None:
    # A server still answering from the previous build while the new one, which found "clause", loads.
    retriever = Retriever(fake_retriever.index, fake_retriever.embedder, fake_retriever.settings)
    register_kind(SectionKind("clause", "Clause", filter="number", filter_help="Only this clause number."))
    try:
        assert retriever.valid_filter_values()["clause"] == []
        with pytest.raises(InvalidQueryError, match=r"^clause '4' matches nothing; valid: $"):
            retriever.search("anything", filters=Filters(clause="4"))
    finally:
        del KINDS["clause"]
