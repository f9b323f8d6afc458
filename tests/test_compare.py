"""The comparison view (qa.compare), the passages' display form (qa.display) and their gold set (eval/compare.py)."""

from __future__ import annotations

import pytest

from core.settings import Settings
from core.types import Filters
from corpus import load_catalog
from eval.compare import load_compare, trigger_counts
from eval.gold import GOLD_PATHS, load_gold_sets
from qa.compare import asks_comparison, compare_reports, topic_of
from qa.display import display_passage
from qa.retrieve import Retriever


def test_a_page_break_inside_a_sentence_is_joined() -> None:
    text = "Especially Women and Children,\n\n\n\nwhich complement the Palermo Convention."
    assert display_passage(text) == "Especially Women and Children, which complement the Palermo Convention."


def test_a_page_break_after_a_word_no_sentence_ends_with_is_joined() -> None:
    text = "a consistent decrease in the rejection of\n\nU.S. extradition requests"
    assert display_passage(text) == "a consistent decrease in the rejection of U.S. extradition requests"


def test_italic_and_bold_markers_are_dropped() -> None:
    text = "the Juvenile Integration Centers, A.C. (*Centros de Integración Juvenil, A.C. - CIJ*) and **CONASAMA**"
    assert display_passage(text) == (
        "the Juvenile Integration Centers, A.C. (Centros de Integración Juvenil, A.C. - CIJ) and CONASAMA"
    )


def test_headings_paragraphs_and_list_items_keep_their_lines() -> None:
    text = "#### **Objective 4**\n\nThe programs are:\n- prevention;\n- treatment.\n\n\n\nNext paragraph."
    assert display_passage(text) == "Objective 4\n\nThe programs are:\n- prevention;\n- treatment.\n\nNext paragraph."


def test_a_lone_asterisk_between_figures_stays() -> None:
    assert display_passage("5 * 3 units") == "5 * 3 units"


@pytest.mark.parametrize(
    "question",
    [
        "What does each report say about extradition?",
        "How do the reports compare on maritime drug interdiction?",
        "Compare the reports on alternative development programmes",
        "¿Qué dice cada informe sobre la extradición?",
    ],
)
def test_comparison_questions_are_recognised(question: str) -> None:
    assert asks_comparison(question)


@pytest.mark.parametrize(
    "question",
    [
        "Does Mexico certify people who work in rehabilitation services?",
        "What does the report say about extradition?",
        "What does priority action 2.6 say?",
    ],
)
def test_ordinary_questions_are_not_comparisons(question: str) -> None:
    assert not asks_comparison(question)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What does each report say about extradition?", "extradition"),
        ("How do the reports treat the gender perspective?", "the gender perspective"),
        ("¿Qué dice cada informe sobre la extradición?", "la extradición"),
        ("Compare the reports on alternative development programmes", "alternative development programmes"),
        ("extradition", "extradition"),
    ],
)
def test_the_topic_is_the_question_without_its_comparison_frame(question: str, topic: str) -> None:
    assert topic_of(question) == topic


def _with_threshold(retriever: Retriever, threshold: float) -> Retriever:
    settings = Settings(**{**retriever.settings.model_dump(), "answer_min_score": threshold})
    return Retriever(retriever.index, retriever.embedder, settings)


def test_a_report_below_the_threshold_is_not_relevant_and_shows_nothing(fake_retriever: Retriever) -> None:
    comparison = compare_reports(_with_threshold(fake_retriever, 1.0), "What does each report say about extradition?")
    assert len(comparison.reports) == 5
    assert [(v.relevant, v.answer, v.hits) for v in comparison.reports] == [(False, None, ())] * 5


def test_a_report_above_the_threshold_has_its_own_answer_from_its_own_passages(fake_retriever: Retriever) -> None:
    comparison = compare_reports(_with_threshold(fake_retriever, -1.0), "What does each report say about extradition?")
    assert comparison.topic == "extradition"
    for view in comparison.reports:
        assert view.relevant and view.answer is not None
        assert view.answer.passage.document_id == view.document_id
        assert 1 <= len(view.hits) <= 3
        assert {h.passage.document_id for h in view.hits} == {view.document_id}


def test_the_reports_come_by_relevance(fake_retriever: Retriever) -> None:
    views = compare_reports(_with_threshold(fake_retriever, -1.0), "extradition").reports
    assert [v.relevance for v in views] == sorted((v.relevance for v in views), reverse=True)


def test_a_document_filter_compares_that_report_alone(fake_retriever: Retriever) -> None:
    views = compare_reports(fake_retriever, "extradition", filters=Filters(document="unodc-honlac-29-2019")).reports
    assert [v.document_id for v in views] == ["unodc-honlac-29-2019"]


def test_the_compare_gold_set_names_real_reports_in_both_splits() -> None:
    questions = load_compare()
    ids = {d.id for d in load_catalog()}
    assert {q.split for q in questions} == {"dev", "test"}
    assert all(q.relevant and q.relevant <= ids for q in questions)


def test_on_dev_the_comparison_trigger_catches_every_comparison_and_flips_no_ordinary_question() -> None:
    counts = trigger_counts(load_compare(splits=["dev"]), load_gold_sets(GOLD_PATHS, ["dev"]))
    assert counts["caught"] == counts["comparison"]
    assert counts["flipped"] == 0
