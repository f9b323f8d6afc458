"""A filter's passage mask comes from rows listed at load (``qa.filters._value_rows``), not a loop per search."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidQueryError
from core.types import Filters, Passage
from qa.filters import FilterIndex, FilterSpec, filter_specs
from qa.retrieve import Retriever


def _loop_mask(passages: list[Passage], spec: FilterSpec, value: str) -> np.ndarray:
    """What ``FilterIndex.mask`` computed before: every passage tested in Python."""

    def allowed(p: Passage) -> bool:
        if spec.match == "document":
            return p.document_id == value
        field = "title" if spec.match == "title" else "number"
        return any(el.kind == spec.name and getattr(el, field) == value for path in p.paths for el in path)

    return np.array([allowed(p) for p in passages], dtype=bool)


def _every_value(filters: FilterIndex) -> list[tuple[FilterSpec, str]]:
    specs = {s.name: s for s in filter_specs()}
    return [(specs[name], v) for name, values in filters.valid_values().items() for v in values]


def test_each_filter_values_mask_equals_the_loop_over_every_passage(fake_retriever: Retriever) -> None:
    filters = FilterIndex(fake_retriever.index)
    passages = list(fake_retriever.index.passages)
    pairs = _every_value(filters)
    counts = {name: len(values) for name, values in filters.valid_values().items()}
    # The built-in filters' values (kinds other tests' reports registered are checked too, if any).
    built_in = {name: counts[name] for name in ("document", "thematic_area", "objective", "priority_action")}
    assert built_in == {"document": 5, "thematic_area": 5, "objective": 12, "priority_action": 19}
    for spec, value in pairs:
        mask = filters.mask(Filters(**{spec.name: value}))
        assert mask is not None
        np.testing.assert_array_equal(mask, _loop_mask(passages, spec, value), err_msg=f"{spec.name}={value}")


def test_two_filters_mask_the_passages_both_allow(fake_retriever: Retriever) -> None:
    filters = FilterIndex(fake_retriever.index)
    passages = list(fake_retriever.index.passages)
    specs = {s.name: s for s in filter_specs()}
    mask = filters.mask(Filters(document="mem-mexico-2024", objective="2"))
    expected = _loop_mask(passages, specs["document"], "mem-mexico-2024") & _loop_mask(
        passages, specs["objective"], "2"
    )
    assert mask is not None
    np.testing.assert_array_equal(mask, expected)
    assert 0 < int(mask.sum()) < int(_loop_mask(passages, specs["objective"], "2").sum())


def test_a_filtered_search_does_not_read_the_passages(fake_retriever: Retriever) -> None:
    filters = FilterIndex(fake_retriever.index)

    class Untouchable(list[Passage]):
        def __iter__(self):  # type: ignore[no-untyped-def]
            raise AssertionError("the mask looped over the passages")

    filters.index = type("Index", (), {})()
    filters.index.documents = fake_retriever.index.documents
    filters.index.passages = Untouchable(fake_retriever.index.passages)
    mask = filters.mask(Filters(document="mem-mexico-2024"))
    assert mask is not None
    assert int(mask.sum()) == sum(p.document_id == "mem-mexico-2024" for p in fake_retriever.index.passages)


def test_filters_that_share_no_passage_are_refused(fake_retriever: Retriever) -> None:
    filters = FilterIndex(fake_retriever.index)
    with pytest.raises(InvalidQueryError, match="these filters together match no passage"):
        filters.mask(Filters(document="elementa-warlike-approach-2024", priority_action="2.6"))
