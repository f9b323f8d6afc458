"""Legs and configurations are data: a leg registered from a test module runs in search and eval."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest

from core.errors import UnknownVariantError
from core.types import Filters
from eval.gold import load_gold
from eval.run import documents_of, in_process_searchers, pool_of, run_eval
from qa.configs import CONFIGS, Config, get_config, register_config
from qa.legs import LEGS, LegQuery, get_leg, register_leg
from qa.retrieve import Retriever

HONLAC = "unodc-honlac-29-2019"


class LengthLeg:
    """A toy leg: longer passages score higher, whatever the question."""

    component = "length"

    def __init__(self, index) -> None:  # type: ignore[no-untyped-def]
        self.lengths = np.array([len(p.text) for p in index.passages], dtype=np.float32)

    def applies(self, query: LegQuery) -> bool:
        return True

    def weight(self, query: LegQuery) -> float:
        return 1.0

    def scores(self, query: LegQuery, mask: np.ndarray | None) -> np.ndarray:
        out = self.lengths.copy()
        if mask is not None:
            out[~mask] = -np.inf
        return out


@pytest.fixture
def length_config() -> Iterator[str]:
    register_leg("length", LengthLeg)
    register_config(Config("by-length", ("length",), False, "toy: longest passages first"))
    register_config(Config("length-hybrid", ("lexical", "length"), False, "toy: BM25 fused with length"))
    yield "by-length"
    LEGS.unregister("length")
    for name in ("by-length", "length-hybrid"):
        CONFIGS.unregister(name)


def test_a_registered_leg_ranks_a_search_by_its_scores(fake_retriever: Retriever, length_config: str) -> None:
    hits = fake_retriever.search("anything at all", k=5, config=length_config)
    longest = sorted(fake_retriever.index.passages, key=lambda p: -len(p.text))[:5]
    assert [h.passage.id for h in hits] == [p.id for p in longest]


def test_a_lone_leg_shows_its_own_score_as_the_fused_one(fake_retriever: Retriever, length_config: str) -> None:
    hit = fake_retriever.search("anything at all", k=1, config=length_config)[0]
    assert hit.scores == {"length": float(len(hit.passage.text)), "fused": float(len(hit.passage.text))}


def test_a_registered_leg_honours_the_filters(fake_retriever: Retriever, length_config: str) -> None:
    hits = fake_retriever.search("anything", k=5, config=length_config, filters=Filters(document=HONLAC))
    assert {h.passage.document_id for h in hits} == {HONLAC}


def test_a_registered_leg_fuses_beside_a_built_in_one(fake_retriever: Retriever, length_config: str) -> None:
    hits = fake_retriever.search("extradition", k=50, config="length-hybrid")
    # Every passage has a length; those that say "extradition" have a BM25 score beside it.
    assert all({"length", "fused"} <= set(h.scores) for h in hits)
    assert any("extradit" in h.passage.text.lower() and set(h.scores) == {"bm25", "length", "fused"} for h in hits)


def test_eval_runs_a_registered_leg_as_a_configuration(fake_retriever: Retriever, length_config: str, tmp_path) -> None:
    gold = tmp_path / "gold.jsonl"
    row = {
        "id": "q1",
        "question": "practical national cooperation mechanisms against diversion of chemicals",
        "kind": "fact",
        "document_id": HONLAC,
        "gold_sections": [f"{HONLAC}/issue-2/recommendation-6"],
        "evidence": [
            {
                "section_id": f"{HONLAC}/issue-2/recommendation-6",
                "quote": "Governments should establish practical national cooperation mechanisms",
            }
        ],
        "split": "dev",
    }
    gold.write_text(json.dumps(row) + "\n", encoding="utf-8")
    result = run_eval(
        in_process_searchers(fake_retriever, [length_config]),
        load_gold(gold),
        documents_of(fake_retriever.settings.corpus_dir),
        pool_of(fake_retriever),
    )
    assert [c.name for c in result.configs] == [length_config]
    longest = max(fake_retriever.index.passages, key=lambda p: len(p.text))
    assert result.configs[0].ranked["q1"][0].passage_id == longest.id


def test_unknown_leg_and_configuration_names_list_the_valid_ones() -> None:
    with pytest.raises(UnknownVariantError, match="dense, lexical, multilingual"):
        get_leg("length-of-nothing")
    with pytest.raises(UnknownVariantError, match="bm25, dense, hybrid, routed"):
        get_config("nope")


def test_the_legs_weights_reproduce_the_measured_fusion_shares(fake_retriever: Retriever) -> None:
    english = LegQuery("q", "en", None, lambda: np.zeros(1))
    translated = LegQuery("q", "es", "the question", lambda: np.zeros(1))
    untranslated = LegQuery("q", "es", None, lambda: np.zeros(1))
    lexical, dense, e5 = (fake_retriever.leg(n) for n in ("lexical", "dense", "multilingual"))
    assert (lexical.weight(english), dense.weight(english)) == (0.3, 0.7)
    assert (lexical.weight(translated), e5.weight(translated)) == (0.2, 0.8)
    assert (lexical.weight(untranslated), e5.weight(untranslated)) == (0.0, 1.0)
    assert (dense.applies(english), e5.applies(english), dense.applies(translated), e5.applies(translated)) == (
        True,
        False,
        False,
        True,
    )
