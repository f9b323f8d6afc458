"""Scores follow the ranking: a client sorting by score keeps the server's order."""

from __future__ import annotations

import pytest

from qa.retrieve import Retriever

# -- 11. scores follow the ranking ----------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["What does priority action 2.6 say?", "recommendation 11", "alliance point 5", "gender perspective"]
)
def test_scores_never_increase_down_the_list(fake_retriever: Retriever, query: str) -> None:
    scores = [h.score for h in fake_retriever.search(query, k=10)]
    assert scores == sorted(scores, reverse=True)


def test_a_section_read_in_order_keeps_its_relevance_in_the_components(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("What does priority action 2.6 say?", k=5)
    assert all(h.scores.get("reading_order") == 1.0 for h in hits if "route" in h.scores)
    assert all(h.score <= 4.0 + h.scores["fused"] for h in hits if "route" in h.scores)
