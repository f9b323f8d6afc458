"""Extractive answers: sentence splitting, choice of the answering sentence, the relevance threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from core.types import Hit, Passage
from corpus import read_text
from index.sentences import answer_units
from qa.answer import UnitStore, extract_answer, split_sentences
from qa.retrieve import Retriever


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
    answer = extract_answer(
        query, hits, fake_retriever.encode_query(query), UnitStore(fake_retriever.embedder), -1.0, query
    )
    assert answer is not None
    document = fake_retriever.index.documents[answer.passage.document_id]
    assert read_text(document, fake_retriever.settings.corpus_dir)[answer.start : answer.end] == answer.text


def test_answer_comes_from_the_top_three_passages(fake_retriever: Retriever) -> None:
    query = "national drug observatory"
    hits = fake_retriever.search(query, k=10)
    answer = extract_answer(
        query, hits, fake_retriever.encode_query(query), UnitStore(fake_retriever.embedder), -1.0, query
    )
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
            UnitStore(fake_retriever.embedder),
            min_score=1.0001,
            words="national drug observatory",
        )
        is None
    )


def test_query_naming_a_section_is_answered_whatever_the_threshold(fake_retriever: Retriever) -> None:
    query = "What does priority action 2.6 say?"
    hits = fake_retriever.search(query, k=5)
    answer = extract_answer(
        query, hits, fake_retriever.encode_query(query), UnitStore(fake_retriever.embedder), 1.0001, query
    )
    assert answer is not None
    assert answer.passage.section_id.endswith("/priority_action-2.6")


def test_no_hits_no_answer(fake_retriever: Retriever) -> None:
    assert (
        extract_answer(
            "anything", [], fake_retriever.encode_query("anything"), UnitStore(fake_retriever.embedder), -1.0
        )
        is None
    )


# -- the threshold on the real model -------------------------------------------------


@pytest.mark.e2e
def test_threshold_separates_answerable_from_unanswerable_questions(real_retriever: Retriever) -> None:
    rows = [
        json.loads(line)
        for line in (PROJECT_ROOT / "eval" / "answerability.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    # Retriever.ask is what every surface calls: the index's answer units and vectors, its threshold.
    wrong = [row["query"] for row in rows if (real_retriever.ask(row["query"]).answer is not None) != row["answerable"]]
    # The threshold was chosen on this set, where it classified all 62 questions right
    # (gap 0.463-0.534 around 0.498); a retrieval or scoring change that breaks that shows here.
    assert wrong == []


@pytest.mark.e2e
def test_spanish_threshold_answers_every_answerable_question(real_retriever: Retriever) -> None:
    rows = [
        json.loads(line)
        for line in (PROJECT_ROOT / "eval" / "answerability_es.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    answered = {row["query"]: real_retriever.ask(row["query"]).answer is not None for row in rows}
    missed = [row["query"] for row in rows if row["answerable"] and not answered[row["query"]]]
    wrongly = [row["query"] for row in rows if not row["answerable"] and answered[row["query"]]]
    # Calibrated on this set (multilingual-e5 cosines crowd high): at 0.825 every answerable
    # question is answered (recall 1.000) and 4 of the 26 off-topic ones are answered too
    # (precision 0.867); a change that loses an answer or lets more noise through shows here.
    assert missed == []
    assert len(wrongly) <= 4, wrongly


def test_cached_sentence_vectors_give_the_same_answer_without_re_embedding(fake_retriever) -> None:
    query = "How much was the annual budget of the national drug authorities?"
    hits = fake_retriever.search(query, k=3)
    cache: dict = {}
    first = extract_answer(
        query, hits, fake_retriever.encode_query(query), UnitStore(fake_retriever.embedder, cache), -1.0, query
    )
    assert set(cache) == {h.passage.id for h in hits}
    calls = fake_retriever.embedder.calls
    again = extract_answer(
        query, hits, fake_retriever.encode_query(query), UnitStore(fake_retriever.embedder, cache), -1.0, query
    )
    assert again == first
    # The query vector is cached by the retriever and the sentences by ``cache``: nothing is embedded again.
    assert fake_retriever.embedder.calls == calls


def test_a_named_section_is_answered_from_its_own_first_passage(fake_retriever) -> None:
    query = "What does priority action 2.7 say?"
    hits = fake_retriever.search(query, k=5)
    answer = extract_answer(
        query, hits, fake_retriever.encode_query(query), UnitStore(fake_retriever.embedder), 0.99, query
    )
    # Named sections are answered whatever the score, and only from the routed head.
    assert answer is not None
    assert answer.passage == hits[0].passage
    assert answer.passage.section_id.endswith("institutional-strengthening/objective-2/priority_action-2.7")


def test_an_additive_opener_does_not_pull_in_the_sentence_before() -> None:
    from qa.spans import widen_span

    text = "Programs consider gender. In addition, staff are certified. Other text."
    units = answer_units(text)
    assert widen_span(text, units, 1, 0) == (units[1].start, units[1].end)


def test_a_question_is_encoded_once_per_request(fake_retriever) -> None:
    # The dense leg and the answer share one query vector, and every sentence
    # vector was embedded at build time: one encode call in all.
    query = "Which agencies in charge of drug control implement policies promoting gender mainstreaming, asked once?"
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


def test_without_a_cache_every_request_encodes_once_and_is_counted(fake_retriever) -> None:
    # What the benchmark measures: cache off, so a repeated question is encoded again,
    # once per request (a routed question whose topic is the question included).
    from qa.retrieve import Retriever
    from tests.fakes import HashingEmbedder

    retriever = Retriever.open(fake_retriever.settings.model_copy(update={"query_cache_size": 0}), HashingEmbedder())
    for query in ("What does priority action 2.6 say?", "What does priority action 2.6 say?", "extradition"):
        retriever.ask(query, k=3)
    assert retriever.encoder.encodings == retriever.embedder.calls == 3


# -- answer units: table rows, list items, sentences -----------------------------------


def test_a_table_row_is_a_unit_with_its_header_rows() -> None:
    text = "Budget:\n\nInstitution\tAmount\t\n\t2022\t2023\nNavy\t10\t20\nHealth\t30\t40\n"
    units = answer_units(text)
    # The intro sentence, then the two data rows; the two header rows answer nothing by themselves.
    assert [(u.kind, text[u.start : u.end]) for u in units] == [
        ("sentence", "Budget:"),
        ("table_row", "Navy\t10\t20"),
        ("table_row", "Health\t30\t40"),
    ]
    assert units[1].header == "Institution\tAmount\t\n\t2022\t2023"


def test_a_row_of_a_later_passage_finds_its_header_in_the_document() -> None:
    document = "Institution\tAmount\nNavy\t10\nHealth\t30\n"
    start = document.index("Health")
    (unit,) = answer_units(document[start:], start, document)
    assert (unit.kind, unit.header, document[unit.start : unit.end]) == (
        "table_row",
        "Institution\tAmount",
        "Health\t30",
    )


def test_a_list_item_is_one_unit_and_heading_lines_are_none() -> None:
    text = (
        "##### **Members**\nThe group is formed by:\n- The Navy, which patrols. It also trains.\n- **2019**\n- Health"
    )
    units = answer_units(text)
    assert [(u.kind, text[u.start : u.end]) for u in units] == [
        ("sentence", "The group is formed by:"),
        ("list_item", "- The Navy, which patrols. It also trains."),
        ("list_item", "- Health"),
    ]


def test_a_binational_action_number_opens_a_list_item_over_wrapped_lines() -> None:
    text = "1.1  Both governments will analyze\ntechniques.  Each will report.\n1.2 Both will share."
    units = answer_units(text)
    assert [(u.kind, text[u.start : u.end]) for u in units] == [
        ("list_item", "1.1  Both governments will analyze\ntechniques.  Each will report."),
        ("list_item", "1.2 Both will share."),
    ]


def test_a_row_answer_names_the_cell_of_the_year_asked_about() -> None:
    from qa.spans import named_cell

    header = "Institution\tAnnual budget\t\n\t2022\t2023"
    assert named_cell("Navy budget in 2023?", "Navy\t10\t20", header) == ("Annual budget 2023", "20")
    # No column named: no cell; both years named: no single cell either.
    assert named_cell("Navy budget?", "Navy\t10\t20", header) is None
    assert named_cell("Navy budget 2022 and 2023?", "Navy\t10\t20", header) is None


# -- the four questions of issue 11, with the real models ---------------------------------


@pytest.mark.e2e
def test_a_budget_question_is_answered_by_the_table_row_and_its_year(real_retriever: Retriever) -> None:
    answer = real_retriever.ask(
        "What was the Security and Citizen Protection Secretariat's drug budget in 2023?"
    ).answer
    assert answer is not None
    assert answer.kind == "table_row"
    assert answer.text.startswith("Security and Citizen Protection\t")
    assert answer.header is not None and "2023" in answer.header
    # The row's 2023 column (the fifth figure), as the corpus prints it.
    assert answer.cell == ("Annual budget amount (U.S. Dollars) 2023", "5,864,298,531")


@pytest.mark.e2e
def test_a_coverage_question_is_answered_by_its_population_row(real_retriever: Retriever) -> None:
    query = "What prevention coverage does Mexico report for school children and university students?"
    answer = real_retriever.ask(query).answer
    assert answer is not None
    assert answer.kind == "table_row"
    assert answer.text.startswith("School children and university students:\t29,065,648")


@pytest.mark.e2e
def test_a_which_institutions_question_is_answered_by_the_list_item(real_retriever: Retriever) -> None:
    answer = real_retriever.ask("Which institutions form the Drug Policy Subgroup?").answer
    assert answer is not None
    assert answer.kind == "list_item"
    assert answer.text.startswith("- The High-Level Security Group, with the Drug Policy Subgroup, comprised of")


@pytest.mark.e2e
def test_the_certification_question_is_answered_by_the_sentence_that_says_no(real_retriever: Retriever) -> None:
    answer = real_retriever.ask("Does Mexico certify people who work in rehabilitation services?").answer
    assert answer is not None
    assert answer.kind == "sentence"
    assert "does not certify personnel who work in rehabilitation or social integration services" in answer.text


def test_a_bare_sub_heading_line_is_never_the_answer(fake_retriever: Retriever) -> None:
    # Elementa's layout labels ("Current status", "Indicator") stand alone on their lines.
    query = "Goal 2 preventing cross-border crimes - what is the current status?"
    hits = fake_retriever.search(query, k=5)
    answer = extract_answer(
        query,
        hits,
        fake_retriever.encode_query(query),
        UnitStore(fake_retriever.embedder, units=fake_retriever.units("en").units),
        -1.0,
        query,
    )
    assert answer is not None
    assert answer.text.strip() not in {"Current status", "Indicator", "Measure / Responsible entity"}


def test_a_sentence_fragment_loses_to_the_sentence_that_states_something() -> None:
    # "Bicentennial Agreement." is a name the splitter cut off: it holds the query's one stem,
    # "agreement", and is shorter, so it has the top BM25 (1) and the sentence 0.63 of it (length
    # normalisation: 2 stems against 7). Cosines 0.90 and 0.95: without the fragment penalty the
    # fragment wins, 1.40 against 1.27; with it (0.2 off) it loses, 1.20 against 1.27.
    text = "Bicentennial Agreement. The agreement set out a new framework for security cooperation."
    passage = Passage("p", "d", ("d/s",), ((),), "label", 0, len(text), text, text)
    hits = [Hit(passage, 1.0, 1, {"fused": 1.0, "dense": 0.9})]
    vectors = np.array([[0.9, (1 - 0.9**2) ** 0.5], [0.95, (1 - 0.95**2) ** 0.5]])
    # Every unit vector is cached, so the embedder is never called.
    answer = extract_answer(
        "What is the agreement?",
        hits,
        np.array([1.0, 0.0]),
        UnitStore(None, {"p": vectors}),
        -1.0,
        "What is the agreement?",  # type: ignore[arg-type]
    )
    assert answer is not None
    assert answer.text == "The agreement set out a new framework for security cooperation."


def test_the_answer_does_not_depend_on_how_many_results_were_asked_for(fake_retriever: Retriever) -> None:
    query = "drug use prevention programs in schools"
    one, ten = fake_retriever.ask(query, k=1), fake_retriever.ask(query, k=10)
    # Here the best unit is in the second passage: with the answer chosen among the top
    # ANSWER_PASSAGES (5) passages whatever ``k`` is, asking for one result still gets it.
    assert ten.answer is not None and ten.answer.passage == ten.hits[1].passage
    assert [h.passage for h in one.hits] == [ten.hits[0].passage]
    assert one.answer == ten.answer


def test_a_layout_label_with_a_stray_quote_is_not_the_answer() -> None:
    # Elementa's indicator label, seven words and a quote the conversion left, stands alone between
    # blank lines: a label, not an answer, though closest to "extradition" (cosine 0.95 against 0.90).
    text = 'Increase in the Extradition of Wanted Fugitives.\n\nNumber of Extraditions of People at Large"\n\nEnd'
    passage = Passage("p", "d", ("d/s",), ((),), "label", 0, len(text), text, text)
    units = answer_units(text, 0)
    assert [text[u.start : u.end] for u in units][:2] == [
        "Increase in the Extradition of Wanted Fugitives.",
        'Number of Extraditions of People at Large"',
    ]
    hits = [Hit(passage, 1.0, 1, {"fused": 1.0, "dense": 0.9})]
    cosines = [0.90, 0.95] + [0.1] * (len(units) - 2)
    vectors = np.array([[c, (1 - c**2) ** 0.5] for c in cosines])
    store = UnitStore(None, {"p": vectors}, {"p": units})  # type: ignore[arg-type]
    answer = extract_answer("extradition", hits, np.array([1.0, 0.0]), store, -1.0, "extradition")
    assert answer is not None
    assert answer.text == "Increase in the Extradition of Wanted Fugitives."
