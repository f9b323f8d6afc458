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
BUILT_IN = [
    "document",
    "thematic_area",
    "objective",
    "priority_action",
    "alliance_point",
    "action",
    "issue",
    "recommendation",
    "paragraph",
    "goal",
]
"""The filters of the kinds ``corpus.kinds`` ships: the thematic area and every numbered kind (the faces'
parameters are built from them at import)."""


def test_unset_filter_values_do_not_restrict() -> None:
    assert not Filters(document=None, thematic_area="")
    assert Filters(document="x", objective=None) == {"document": "x"}


def test_replace_sets_one_filter_and_keeps_the_others() -> None:
    assert Filters(document="a", objective="2").replace(document="b") == {"document": "b", "objective": "2"}


def test_the_filters_are_the_report_and_the_filter_kinds() -> None:
    # Kinds a report's own labels introduced (the generic scheme, in other tests) are filters too.
    assert filter_names() == ["document", *(k.name for k in KINDS.values() if k.filter)]
    assert filter_names()[: len(BUILT_IN)] == BUILT_IN


def test_every_numbered_kind_filters_by_number_with_help_from_its_label() -> None:
    numbered = [k for k in KINDS.values() if k.label]
    assert numbered and all(k.filter == "number" for k in numbered)
    assert KINDS["goal"].filter_help == "Only this goal number."
    assert KINDS["priority_action"].filter_help == "Only this MEM priority action number."  # given, kept


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
def clause_kind() -> Iterator[None]:
    """A numbered kind registered with no word about filters, as a scheme of a new report would."""
    register_kind(SectionKind("clause", "Clause", r"\bclauses?"))
    yield
    del KINDS["clause"]


def test_a_numbered_kind_filters_in_the_engine_with_no_marking(fake_retriever: Retriever) -> None:
    # HONLAC's recommendations: cited and routed by number, and now filtered by it too.
    hits = fake_retriever.search("cooperation", k=10, filters=Filters(recommendation="12"))
    assert hits
    assert all(REC12 in h.passage.section_ids[0] for h in hits)
    assert "12" in fake_retriever.valid_filter_values()["recommendation"]


def test_a_numbered_kind_is_a_parameter_of_every_derived_signature(clause_kind: None) -> None:
    def face(**filters: str | None) -> None: ...

    with_filter_parameters(face, lambda spec: (str | None, None))
    assert list(inspect.signature(face).parameters) == filter_names()
    assert "clause" in inspect.signature(face).parameters


def test_an_unknown_filter_name_is_refused_with_the_valid_ones(fake_retriever: Retriever) -> None:
    with pytest.raises(InvalidQueryError, match="unknown filter 'chapter'; valid: document, thematic_area"):
        fake_retriever.search("anything", filters=Filters(chapter="4"))


def test_a_kind_registered_after_the_index_loaded_filters_with_no_values(fake_retriever: Retriever) -> None:
    # A server still answering from the previous build while the new one, which found "clause", loads.
    retriever = Retriever(fake_retriever.index, fake_retriever.embedder, fake_retriever.settings)
    register_kind(SectionKind("clause", "Clause"))
    try:
        # Not offered (GET /filters leaves out a kind with no values), and refused when asked for.
        assert "clause" not in retriever.valid_filter_values()
        with pytest.raises(InvalidQueryError, match=r"^clause '4' matches nothing; valid: $"):
            retriever.search("anything", filters=Filters(clause="4"))
    finally:
        del KINDS["clause"]
