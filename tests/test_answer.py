"""Extractive answers: sentence splitting, choice of the answering sentence, the relevance threshold."""

from __future__ import annotations

import json

import pytest

from corpus import read_text
from index.sentences import answer_units
from qa.answer import extract_answer, split_sentences
from qa.retrieve import Retriever
from qa.settings import PROJECT_ROOT


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_sentences_end_at_terminal_punctuation() -> None:
    assert _sentences("Mexico has a plan. It is funded! Is it? Yes.") == [
        "Mexico has a plan.",
        "It is funded!",
        "Is it?",
        "Yes.",
    ]


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = "The U.S. Department funds it, e.g. in Sonora. Dr. Ruiz and J. Smith agree."
    assert _sentences(text) == ["The U.S. Department funds it, e.g. in Sonora.", "Dr. Ruiz and J. Smith agree."]


def test_closing_quote_stays_with_its_sentence() -> None:
    assert _sentences('He said "Yes." Then he left.') == ['He said "Yes."', "Then he left."]


def test_list_items_are_sentences_and_keep_their_numbers() -> None:
    text = "The programs are:\n- School prevention.\n- Treatment.\n\n1. Improve exchange.\n2. Train staff."
    assert _sentences(text) == [
        "The programs are:",
        "- School prevention.",
        "- Treatment.",
        "1. Improve exchange.",
        "2. Train staff.",
    ]


def test_page_break_inside_a_sentence_does_not_split_it() -> None:
    # A blank line followed by lower case is a page break in mid-sentence.
    assert _sentences("while considering their\n\n\n\nspecific needs.") == [
        "while considering their\n\n\n\nspecific needs."
    ]


def test_sentence_spans_are_shifted_by_the_offset() -> None:
    assert split_sentences("One. Two.", offset=100) == [(100, 104), (105, 109)]


# -- extract_answer over the fake index --------------------------------------------


def test_answer_span_is_the_answer_text_in_the_corpus_file(fake_retriever: Retriever) -> None:
    query = "gender perspective in drug policies"
    hits = fake_retriever.search(query, k=5)
    answer = extract_answer(query, hits, fake_retriever.encode_query(query), fake_retriever.embedder, min_score=-1.0)
    assert answer is not None
    document = fake_retriever.index.documents[answer.passage.document_id]
    assert read_text(document, fake_retriever.settings.corpus_dir)[answer.start : answer.end] == answer.text


def test_answer_comes_from_the_top_three_passages(fake_retriever: Retriever) -> None:
    query = "national drug observatory"
    hits = fake_retriever.search(query, k=10)
    answer = extract_answer(query, hits, fake_retriever.encode_query(query), fake_retriever.embedder, min_score=-1.0)
    assert answer is not None
    assert answer.passage.id in {h.passage.id for h in hits[:3]}


def test_no_answer_below_the_threshold(fake_retriever: Retriever) -> None:
    # Cosine similarity is at most 1, so nothing reaches a threshold above it.
    hits = fake_retriever.search("national drug observatory", k=5)
    assert (
        extract_answer(
            "national drug observatory",
            hits,
            fake_retriever.encode_query("national drug observatory"),
            fake_retriever.embedder,
            min_score=1.0001,
        )
        is None
    )


def test_query_naming_a_section_is_answered_whatever_the_threshold(fake_retriever: Retriever) -> None:
    query = "What does priority action 2.6 say?"
    hits = fake_retriever.search(query, k=5)
    answer = extract_answer(query, hits, fake_retriever.encode_query(query), fake_retriever.embedder, min_score=1.0001)
    assert answer is not None
    assert answer.passage.section_id.endswith("/priority_action-2.6")


def test_no_hits_no_answer(fake_retriever: Retriever) -> None:
    assert (
        extract_answer("anything", [], fake_retriever.encode_query("anything"), fake_retriever.embedder, min_score=-1.0)
        is None
    )


# -- the threshold on the real model -------------------------------------------------


@pytest.mark.e2e
def test_threshold_separates_answerable_from_unanswerable_questions(real_retriever: Retriever) -> None:
    rows = [
        json.loads(line)
        for line in (PROJECT_ROOT / "eval" / "answerability.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    wrong = []
    for row in rows:
        hits = real_retriever.search(row["query"], k=10)
        answer = extract_answer(
            row["query"],
            hits,
            real_retriever.encode_query(row["query"]),
            real_retriever.embedder,
            real_retriever.settings.answer_min_score,
        )
        if (answer is not None) != row["answerable"]:
            wrong.append(row["query"])
    # The threshold was chosen on this set, where it classified all 62 questions right
    # (gap 0.445-0.517 around 0.48); a retrieval or scoring change that breaks that shows here.
    assert wrong == []


def test_cached_sentence_vectors_give_the_same_answer_without_re_embedding(fake_retriever) -> None:
    query = "How much was the annual budget of the national drug authorities?"
    hits = fake_retriever.search(query, k=3)
    cache: dict = {}
    first = extract_answer(
        query, hits, fake_retriever.encode_query(query), fake_retriever.embedder, min_score=-1.0, cache=cache
    )
    assert set(cache) == {h.passage.id for h in hits}
    calls = fake_retriever.embedder.calls
    again = extract_answer(
        query, hits, fake_retriever.encode_query(query), fake_retriever.embedder, min_score=-1.0, cache=cache
    )
    assert again == first
    # The query vector is cached by the retriever and the sentences by ``cache``: nothing is embedded again.
    assert fake_retriever.embedder.calls == calls


def test_a_named_section_is_answered_from_its_own_first_passage(fake_retriever) -> None:
    query = "What does priority action 2.7 say?"
    hits = fake_retriever.search(query, k=5)
    answer = extract_answer(query, hits, fake_retriever.encode_query(query), fake_retriever.embedder, min_score=0.99)
    # Named sections are answered whatever the score, and only from the routed head.
    assert answer is not None
    assert answer.passage == hits[0].passage
    assert answer.passage.section_id.endswith("institutional-strengthening/objective-2/priority_action-2.7")


def test_an_additive_opener_does_not_pull_in_the_sentence_before() -> None:
    from qa.answer import _widen

    text = "Programs consider gender. In addition, staff are certified. Other text."
    units = answer_units(text)
    assert _widen(text, units, 1, 0) == (units[1].start, units[1].end)


def test_a_question_is_encoded_once_per_request(fake_retriever) -> None:
    # The dense leg and the answer share one query vector, and every sentence
    # vector was embedded at build time: one encode call in all.
    query = "Which agencies implement gender mainstreaming policies, asked once?"
    calls = fake_retriever.embedder.calls
    answered = fake_retriever.ask(query, k=3)
    assert answered.answer is not None
    assert fake_retriever.embedder.calls == calls + 1


def test_a_repeated_question_is_not_encoded_again(fake_retriever) -> None:
    query = "Which agencies implement gender mainstreaming policies, asked twice?"
    first = fake_retriever.ask(query, k=3)
    calls = fake_retriever.embedder.calls
    again = fake_retriever.ask(query, k=3)
    assert again == first
    assert fake_retriever.embedder.calls == calls  # served from the query-vector cache
