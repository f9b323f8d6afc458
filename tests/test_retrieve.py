"""Retriever behaviour on the real corpus with the fake embedder (no torch)."""

from __future__ import annotations

import itertools
import math

import pytest

from core.errors import InvalidQueryError, UnknownVariantError
from core.types import Filters
from qa.rank import DUPLICATE_JACCARD
from qa.retrieve import Retriever

PA26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"
HONLAC = "unodc-honlac-29-2019"


def test_named_priority_action_comes_first(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("What does priority action 2.6 under institutional strengthening say?", k=3)
    assert hits[0].passage.section_id == PA26
    assert hits[0].scores["route"] == 1.0


def test_ambiguous_reference_returns_each_matching_section_before_anything_else(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("priority action 3.4", k=5)
    # Three thematic areas have a priority action 3.4: one passage of each comes first.
    firsts = [h.passage.section_id.rsplit("/", 2)[0].rsplit("/", 1)[1] for h in hits[:3]]
    assert sorted(firsts) == [
        "thematic_area-institutional-strengthening",
        "thematic_area-measures-of-prevention-treatment-and-recovery",
        "thematic_area-measures-to-control-and-counter-the-illicit",
    ]


def test_ranks_are_consecutive_and_scores_do_not_increase(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("money laundering and seized assets", k=10)
    assert [h.rank for h in hits] == list(range(1, 11))
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_document_filter_applies_to_both_legs(fake_retriever: Retriever) -> None:
    for config in ("bm25", "dense", "hybrid", "routed"):
        hits = fake_retriever.search("training of police", k=10, filters=Filters(document=HONLAC), config=config)
        assert hits, config
        assert {h.passage.document_id for h in hits} == {HONLAC}, config


def test_thematic_area_filter_accepts_part_of_the_name(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("gender", k=10, filters=Filters(thematic_area="prevention"))
    assert {h.passage.path[0].title for h in hits} == {"Measures of Prevention, Treatment and Recovery Support"}


def test_priority_action_filter_keeps_only_that_number(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("resources", k=10, filters=Filters(priority_action="2.7"))
    assert hits
    assert all(any(el.number == "2.7" for el in h.passage.path) for h in hits)


def test_unknown_filter_value_lists_the_valid_ones(fake_retriever: Retriever) -> None:
    with pytest.raises(InvalidQueryError, match=r"priority_action '9\.9' matches nothing; valid: 1\.1, 1\.2"):
        fake_retriever.search("anything", filters=Filters(priority_action="9.9"))


def test_ambiguous_thematic_area_filter_is_refused(fake_retriever: Retriever) -> None:
    # "measures" is in two area titles (prevention; control and counter).
    with pytest.raises(InvalidQueryError, match="matches several thematic areas"):
        fake_retriever.search("anything", filters=Filters(thematic_area="measures"))


def test_unknown_document_filter_lists_the_documents(fake_retriever: Retriever) -> None:
    with pytest.raises(InvalidQueryError, match="valid: elementa-warlike-approach-2024, mem-mexico-2024"):
        fake_retriever.search("anything", filters=Filters(document="nope"))


def _overlap(retriever: Retriever, a: int, b: int) -> float:
    wa, wb = retriever.ranker._words[a], retriever.ranker._words[b]
    return len(wa & wb) / max(1, len(wa | wb))


def test_near_duplicate_passages_are_collapsed(fake_retriever: Retriever) -> None:
    # Binational Alliance Point 15 restates its objective 2 almost word for word
    # as action 2.1; both match this query, only the better one may be shown.
    index = fake_retriever.index
    ap15 = "us-mexico-binational-drug-strategy-1998/alliance_point-15"
    pair = [index.section_passages[f"{ap15}/{tail}"][0] for tail in ("objective-2", "action-2/action-2.1")]
    assert _overlap(fake_retriever, *pair) >= DUPLICATE_JACCARD
    hits = fake_retriever.search("expand sharing of technical experiences and expertise", k=20, config="bm25")
    ids = [index.passage_index[h.passage.id] for h in hits]
    assert len(set(ids) & set(pair)) == 1
    for n, a in enumerate(ids):
        assert all(_overlap(fake_retriever, a, b) < DUPLICATE_JACCARD for b in ids[:n])


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_is_refused(fake_retriever: Retriever, query: str) -> None:
    with pytest.raises(InvalidQueryError, match="query is empty"):
        fake_retriever.search(query)


def test_overlong_query_is_refused(fake_retriever: Retriever) -> None:
    with pytest.raises(InvalidQueryError, match="the limit is 2000"):
        fake_retriever.search("a" * 2001)


def test_unknown_configuration_lists_the_valid_ones(fake_retriever: Retriever) -> None:
    with pytest.raises(UnknownVariantError, match="valid: bm25, dense, hybrid, routed"):
        fake_retriever.search("x", config="magic")


def test_named_parent_section_brings_its_children_before_other_text(fake_retriever: Retriever) -> None:
    # Alliance Point 6 has its own intro plus objectives and actions; asking for
    # it should put all of that ahead of any other alliance point's text.
    ap6 = "us-mexico-binational-drug-strategy-1998/alliance_point-6"
    inside = sum(1 for p in fake_retriever.index.passages if p.section_id.startswith(ap6 + "/") or p.section_id == ap6)
    hits = fake_retriever.search("alliance point 6", k=min(inside, 50))
    assert hits[0].passage.section_id == ap6  # its own text leads
    assert all(h.passage.section_id == ap6 or h.passage.section_id.startswith(ap6 + "/") for h in hits)


def test_a_named_report_ranks_its_passages_first(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("What does the State Department fact sheet say about money laundering?", k=5)
    assert {h.passage.document_id for h in hits} == {"state-inl-mexico-fact-sheet-2005"}
    assert all(h.scores["document"] == 1.0 for h in hits)


def test_a_bare_reference_reads_the_section_in_order(fake_retriever: Retriever) -> None:
    pa = "mem-mexico-2024/thematic_area-international-cooperation/objective-1/priority_action-1.3"
    own = fake_retriever.index.section_passages[pa]
    assert len(own) >= 2  # otherwise order would not be tested
    hits = fake_retriever.search("international cooperation priority action 1.3", k=len(own))
    assert [fake_retriever.index.passage_index[h.passage.id] for h in hits] == own


def test_a_leg_that_did_not_retrieve_a_passage_shows_no_score(fake_retriever: Retriever) -> None:
    # "PA 2.6" routes to priority action 2.6, but no passage holds the word "pa" for BM25.
    hits = fake_retriever.search("PA 2.6", k=5, config="routed")
    assert any("bm25" not in h.scores for h in hits)
    assert all(math.isfinite(v) for h in hits for v in [h.score, *h.scores.values()])
