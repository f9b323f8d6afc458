"""Training pairs for adapting MiniLM: from the corpus only, never from the gold questions or evidence."""

from __future__ import annotations

import pytest

from core.settings import Settings
from core.types import ParsedDocument, Passage
from index.adapt import read_holdout
from index.build import collect_passages
from index.pairs import Pair, PairConfig, build_pairs, normalise

_ALL_SOURCES = PairConfig(statement_passages=3, cloze_sentences=2, table_rows=2, heading_passages=2)


@pytest.fixture(scope="module")
def corpus(fake_settings: Settings) -> tuple[list[ParsedDocument], list[Passage]]:
    return collect_passages(fake_settings)


@pytest.fixture(scope="module")
def pairs(fake_settings: Settings, corpus: tuple[list[ParsedDocument], list[Passage]]) -> list[Pair]:
    return build_pairs(*corpus, _ALL_SOURCES, read_holdout(fake_settings.adapt_holdout))


def test_no_gold_question_or_evidence_quote_is_a_training_anchor(fake_settings: Settings, pairs: list[Pair]) -> None:
    # eval/README.md: the model never trains on what it is evaluated on.
    held = {normalise(t) for t in read_holdout(fake_settings.adapt_holdout)}
    assert len(held) > 400  # the gold sets' questions and quotes, and the answerability questions
    anchors = {normalise(p.anchor) for p in pairs}
    assert not [a for a in anchors for h in held if h in a or a in h]


def test_without_the_holdout_some_anchors_would_be_gold_evidence(
    fake_settings: Settings, corpus: tuple[list[ParsedDocument], list[Passage]], pairs: list[Pair]
) -> None:
    # The filter above is not vacuous: the corpus's own sentences include the quoted ones.
    unfiltered = build_pairs(*corpus, _ALL_SOURCES)
    assert len(unfiltered) > len(pairs)


def test_every_source_gives_pairs(pairs: list[Pair]) -> None:
    assert {p.source for p in pairs} == {"statement", "cloze", "table", "heading"}


def test_a_statement_is_cut_out_of_its_positive(pairs: list[Pair]) -> None:
    for p in pairs:
        if p.source in ("statement", "heading"):
            assert normalise(p.anchor) not in normalise(p.positive)


def test_a_cloze_sentence_is_cut_out_of_its_passage(pairs: list[Pair]) -> None:
    cloze = [p for p in pairs if p.source == "cloze"]
    assert cloze and all(normalise(p.anchor) not in normalise(p.positive) for p in cloze)


def test_every_pair_has_a_hard_negative(pairs: list[Pair]) -> None:
    assert all(p.negative is not None for p in pairs)


def test_a_cloze_sentences_hard_negative_comes_from_another_section(pairs: list[Pair]) -> None:
    # A cloze positive starts with its passage's label; the negative with its own label and title.
    cloze = [p for p in pairs if p.source == "cloze"]
    assert all(not (p.negative or "").startswith(p.positive.split("\n")[0] + ":") for p in cloze)


def test_the_pairs_are_the_same_every_time(
    fake_settings: Settings, corpus: tuple[list[ParsedDocument], list[Passage]], pairs: list[Pair]
) -> None:
    assert build_pairs(*corpus, _ALL_SOURCES, read_holdout(fake_settings.adapt_holdout)) == pairs


def test_a_source_set_to_zero_gives_no_pairs(corpus: tuple[list[ParsedDocument], list[Passage]]) -> None:
    only = build_pairs(*corpus, PairConfig(statement_passages=0, cloze_sentences=0, table_rows=2, heading_passages=0))
    assert only and {p.source for p in only} == {"table"}
