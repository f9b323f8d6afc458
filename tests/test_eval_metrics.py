"""The evaluation harness: metrics on a hand-worked example, evidence hits, section runs, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import ir_measures
import pytest
from typer.testing import CliRunner

from cli.main import app
from core.errors import EvaluationError, UnknownVariantError
from corpus import load_corpus
from eval.answers import GivenAnswer, aggregate_answers, score_answers
from eval.gold import EvidenceSpan, Question, load_gold, locate_evidence
from eval.metrics import Retrieved, aggregate, covers, passage_run, score, section_run
from eval.report import compare, write_outputs
from eval.run import documents_of, in_process_answerers, in_process_searchers, parse_spec, pool_of, run_eval
from qa.retrieve import Retriever

# A toy document "d" cut into five passages of 100 characters.
P_A = Retrieved("pA", "d", ("A",), "A", 0, 100)
P_B = Retrieved("pB", "d", ("B",), "B", 100, 200)
P_B2 = Retrieved("pB2", "d", ("B",), "B", 200, 300)
P_CD = Retrieved("pCD", "d", ("C", "D"), "C", 300, 400)  # one text cited by two sections
P_E = Retrieved("pE", "d", ("E",), "E", 400, 500)

HONLAC_REC6 = "unodc-honlac-29-2019/issue-2/recommendation-6"
HONLAC_REC12 = "unodc-honlac-29-2019/issue-3/recommendation-12"
MEM_PA26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"
BINATIONAL_AP16 = "us-mexico-binational-drug-strategy-1998/alliance_point-16"
REC6_QUOTE = "Governments should establish practical national cooperation mechanisms"


def _question(qid: str, gold: tuple[str, ...], split: str = "dev") -> Question:
    return Question(qid, f"question {qid}", "fact", "d", gold, (), split)


def _span(start: int, end: int, section: str = "X") -> EvidenceSpan:
    return EvidenceSpan("d", section, start, end)


@pytest.fixture(scope="module")
def toy_scores() -> dict[str, dict[str, float]]:
    questions = [_question("q1", ("B",)), _question("q2", ("D", "E")), _question("q3", ("A",))]
    spans = {"q1": (_span(120, 160),), "q2": (_span(410, 450),), "q3": (_span(10, 20),)}
    ranked = {"q1": [P_A, P_B, P_B2], "q2": [P_CD, P_A, P_E], "q3": []}
    return score(questions, ranked, spans)


def test_metrics_of_a_question_answered_second(toy_scores: dict[str, dict[str, float]]) -> None:
    # q1: the evidence [120,160) lies in pB, ranked 2nd -> hit@1 0, hit@3..10 1.
    # Section run A, B: gold B at rank 2 -> RR 1/2; nDCG = (1/log2 3) / 1 = 0.6309;
    # the only gold section is in the top 5 -> R@5 = R@10 = 1. The top passage cites A -> cit@1 0.
    assert toy_scores["q1"] == pytest.approx(
        {
            "hit@1": 0.0,
            "hit@3": 1.0,
            "hit@5": 1.0,
            "hit@10": 1.0,
            "mrr@10": 0.5,
            "ndcg@10": 0.6309297535714575,
            "r@5": 1.0,
            "r@10": 1.0,
            "cit@1": 0.0,
        }
    )


def test_metrics_of_a_question_with_two_gold_sections(toy_scores: dict[str, dict[str, float]]) -> None:
    # q2: evidence [410,450) is in pE, ranked 3rd -> hit@1 0, hit@3 1.
    # Section run C, D, A, E (pCD cites C and D): gold D at 2 and E at 4.
    # RR = 1/2; DCG = 1/log2(3) + 1/log2(5) = 1.06161, ideal = 1 + 1/log2(3) = 1.63093,
    # nDCG = 0.65092; both gold sections within 5 -> R@5 = 1. pCD also cites D -> cit@1 = 1.
    assert toy_scores["q2"] == pytest.approx(
        {
            "hit@1": 0.0,
            "hit@3": 1.0,
            "hit@5": 1.0,
            "hit@10": 1.0,
            "mrr@10": 0.5,
            "ndcg@10": 0.6509209298071326,
            "r@5": 1.0,
            "r@10": 1.0,
            "cit@1": 1.0,
        }
    )


def test_a_question_with_nothing_retrieved_scores_zero(toy_scores: dict[str, dict[str, float]]) -> None:
    # q3 has no run and no relevant passage in the pool; it must count as a miss, not vanish.
    assert set(toy_scores["q3"].values()) == {0.0}


def test_aggregate_is_the_mean_over_all_questions(toy_scores: dict[str, dict[str, float]]) -> None:
    means = aggregate(toy_scores, ["q1", "q2", "q3"])
    # hit@3: q1 and q2 -> 2/3; mrr: (0.5 + 0.5 + 0) / 3; ndcg: (0.63093 + 0.65092 + 0) / 3 = 0.42728;
    # cit@1: only q2 -> 1/3.
    assert means["hit@3"] == pytest.approx(2 / 3)
    assert means["mrr@10"] == pytest.approx(1 / 3)
    assert means["ndcg@10"] == pytest.approx(0.4272835611261967)
    assert means["cit@1"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (_span(120, 160), True),  # inside pB
        (_span(80, 110), False),  # 10 of 30 characters in pB: less than half
        (_span(90, 110), True),  # 10 of 20 characters in pB: exactly half counts
        (_span(195, 250), False),  # 5 of 55 in pB
    ],
)
def test_a_passage_covers_a_quote_it_overlaps_by_half(span: EvidenceSpan, expected: bool) -> None:
    assert covers(P_B, span) is expected


def test_a_passage_of_another_document_never_covers() -> None:
    assert covers(P_B, EvidenceSpan("other", "X", 120, 160)) is False


def test_a_heading_quote_is_covered_by_any_passage_of_its_section() -> None:
    heading = EvidenceSpan("d", "D", 290, 299, in_heading=True)  # spans do not matter for headings
    assert (covers(P_CD, heading), covers(P_B2, heading)) == (True, False)


def test_section_run_ranks_sections_by_first_citing_passage() -> None:
    # pA -> A; pCD -> C, D; pB -> B; pA again adds nothing.
    rows = section_run({"q": [P_A, P_CD, P_B, P_A]})
    assert [(sid, rank) for _, sid, rank, _ in rows] == [("A", 1), ("C", 2), ("D", 3), ("B", 4)]


def test_run_scores_decrease_with_rank() -> None:
    # TREC tools rank by score, so the score must reproduce the retriever's order: 1/rank.
    rows = passage_run({"q": [P_E, P_A, P_B]})
    assert [(pid, score) for _, pid, _, score in rows] == [("pE", 1.0), ("pA", 0.5), ("pB", 1 / 3)]


@pytest.fixture(scope="module")
def documents() -> dict:
    return {d.document.id: d for d in load_corpus()}


def _gold_question(qid: str, section: str, quote: str, split: str = "dev") -> Question:
    from eval.gold import Evidence

    return Question(qid, "q", "fact", section.split("/")[0], (section,), (Evidence(section, quote),), split)


def test_locate_evidence_gives_the_quote_s_exact_span(documents: dict) -> None:
    (span,) = locate_evidence([_gold_question("q", HONLAC_REC6, REC6_QUOTE)], documents)["q"]
    text = documents["unodc-honlac-29-2019"].text
    assert (text[span.start : span.end], span.in_heading) == (REC6_QUOTE, False)


def test_locate_evidence_marks_a_heading_quote(documents: dict) -> None:
    (span,) = locate_evidence([_gold_question("q", BINATIONAL_AP16, "Alliance Point 16")], documents)["q"]
    assert span.in_heading is True


def test_locate_evidence_rejects_a_quote_from_another_section(documents: dict) -> None:
    with pytest.raises(EvaluationError, match="quote not found in unodc-honlac-29-2019/issue-3"):
        locate_evidence([_gold_question("q", HONLAC_REC12, REC6_QUOTE)], documents)


def _write_gold(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _row(qid: str, question: str, section: str, quote: str, split: str, kind: str = "fact") -> dict:
    return {
        "id": qid,
        "question": question,
        "kind": kind,
        "document_id": section.split("/")[0],
        "gold_sections": [section],
        "evidence": [{"section_id": section, "quote": quote}],
        "split": split,
    }


def test_load_gold_rejects_an_unknown_kind(tmp_path: Path) -> None:
    gold = _write_gold(tmp_path / "g.jsonl", [_row("q1", "x", HONLAC_REC6, REC6_QUOTE, "dev", kind="trivia")])
    with pytest.raises(EvaluationError, match="unknown kind 'trivia'; valid: fact, paraphrase"):
        load_gold(gold)


def test_load_gold_keeps_only_the_asked_split(tmp_path: Path) -> None:
    gold = _write_gold(
        tmp_path / "g.jsonl",
        [_row("q1", "x", HONLAC_REC6, REC6_QUOTE, "dev"), _row("q2", "y", HONLAC_REC6, REC6_QUOTE, "test")],
    )
    assert [q.id for q in load_gold(gold, ["test"])] == ["q2"]


def test_parse_spec_names_a_fusion_variant_and_rejects_unknown_names() -> None:
    # A bare name takes the default fusion (convex) and keeps the bare label.
    assert (parse_spec("hybrid"), parse_spec("hybrid:rrf")) == (
        ("hybrid", "hybrid", "convex"),
        ("hybrid:rrf", "hybrid", "rrf"),
    )
    with pytest.raises(UnknownVariantError, match="valid: bm25, dense, hybrid, routed"):
        parse_spec("hybird")


def test_eval_command_rejects_an_unknown_configuration_before_loading_anything() -> None:
    result = CliRunner().invoke(app, ["eval", "--config", "hybird"])
    assert result.exit_code == 2
    assert "unknown retrieval configuration 'hybird'" in result.stderr


@pytest.fixture(scope="module")
def tiny_eval(fake_retriever: Retriever, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    gold = _write_gold(
        tmp_path_factory.mktemp("gold") / "gold.jsonl",
        [
            _row("q1", "practical national cooperation mechanisms against diversion of chemicals", HONLAC_REC6,
                 REC6_QUOTE, "dev"),
            _row("q2", "What does priority action 2.6 say about human rights?", MEM_PA26,
                 "Mexico's national drug policies and strategies take the human rights approach", "dev",
                 kind="section_number"),
            _row("q3", "alliance point 16 exchange of information and evidence", BINATIONAL_AP16,
                 "Alliance Point 16", "test", kind="gap"),
        ],
    )  # fmt: skip
    questions = load_gold(gold)
    result = run_eval(
        in_process_searchers(fake_retriever, ["bm25", "hybrid"]),
        questions,
        documents_of(fake_retriever.settings.corpus_dir),
        pool_of(fake_retriever),
    )
    out = tmp_path_factory.mktemp("out")
    return out, write_outputs(result, out, ["dev", "test"])


def test_eval_writes_json_markdown_trec_run_and_qrels(tiny_eval: tuple[Path, list[Path]]) -> None:
    out, written = tiny_eval
    names = {p.name for p in written}
    assert {"results.json", "report.md", "qrels.trec", "run.hybrid.trec", "run.bm25.trec"} <= names
    assert all((out / n).stat().st_size > 0 for n in names)


def test_exported_trec_files_rescore_to_the_reported_values(tiny_eval: tuple[Path, list[Path]]) -> None:
    # Evaluators rescoring our TREC exports with ir-measures must get our numbers back.
    out, _ = tiny_eval
    reported = json.loads((out / "results.json").read_text())["configs"]["hybrid"]["splits"]["all"]["metrics"]
    sections = ir_measures.calc_aggregate(
        [ir_measures.nDCG @ 10, ir_measures.RR @ 10],
        ir_measures.read_trec_qrels(str(out / "qrels.trec")),
        ir_measures.read_trec_run(str(out / "run.hybrid.trec")),
    )
    hits = ir_measures.calc_aggregate(
        [ir_measures.Success @ 5],
        ir_measures.read_trec_qrels(str(out / "qrels.evidence.trec")),
        ir_measures.read_trec_run(str(out / "run.hybrid.passages.trec")),
    )
    assert (
        round(sections[ir_measures.nDCG @ 10], 4),
        round(sections[ir_measures.RR @ 10], 4),
        round(hits[ir_measures.Success @ 5], 4),
    ) == (reported["ndcg@10"], reported["mrr@10"], reported["hit@5"])


def _results(per_question: dict[str, float]) -> dict:
    metrics = {"hit@5": sum(per_question.values()) / len(per_question), "cit@1": 0.5}
    return {
        "configs": {
            "hybrid": {
                "splits": {"dev": {"n": len(per_question), "metrics": metrics}},
                "questions": [{"id": q, "metrics": {"hit@5": v, "cit@1": 0.5}} for q, v in per_question.items()],
            }
        }
    }


def test_compare_gives_deltas_and_the_questions_that_flipped() -> None:
    old = _results({"q1": 1.0, "q2": 0.0, "q3": 0.0})
    new = _results({"q1": 0.0, "q2": 1.0, "q3": 1.0})
    (row,) = compare(old, new)
    # hit@5 went from 1/3 to 2/3; q2 and q3 were gained, q1 lost; cit@1 did not move.
    assert row["delta"]["hit@5"] == pytest.approx(1 / 3, abs=1e-4)
    assert row["delta"]["cit@1"] == 0.0
    assert row["flips"]["hit@5"] == {"gained": ["q2", "q3"], "lost": ["q1"]}


# -- answer accuracy -----------------------------------------------------------------


def _given(start: int, end: int, section: str = "B") -> GivenAnswer:
    return GivenAnswer("p", "d", (section,), start, end, "sentence", "text")


def test_answer_figures_of_a_held_a_half_held_a_missed_and_an_abstained_question() -> None:
    questions = [_question(q, ("B",)) for q in ("q1", "q2", "q3", "q4")]
    spans = {q.id: (_span(120, 160, "B"),) for q in questions}
    answers = {
        "q1": _given(110, 170),  # holds the whole quote
        "q2": _given(140, 200),  # holds half of it (140-160 of 120-160): covered, as for passages
        "q3": _given(161, 200, "A"),  # after it, from another section
        "q4": None,
    }
    top3 = {"q1": 1.0, "q2": 0.0, "q3": 1.0, "q4": 1.0}
    per_query = {q: {"hit@3": v} for q, v in top3.items()}
    scores = score_answers(questions, answers, spans, per_query)
    assert [scores[q]["evidence"] for q in ("q1", "q2", "q3", "q4")] == [1.0, 1.0, 0.0, 0.0]
    assert [scores[q]["section"] for q in ("q1", "q2", "q3", "q4")] == [1.0, 1.0, 0.0, 0.0]
    # Over all four: 2 held, 2 from gold, 1 abstained; among q1, q3, q4 (evidence in the top 3): 1 of 3 held.
    assert aggregate_answers(scores, list(scores)) == pytest.approx(
        {"evidence": 0.5, "evidence_top3": 1 / 3, "section": 0.5, "abstain": 0.25, "n_top3": 3.0}
    )


def test_eval_reports_the_answers_of_a_configuration_run_with_an_answerer(
    fake_retriever: Retriever, tmp_path: Path
) -> None:
    questions = [q for q in load_gold() if q.id in {"q002", "q005"}]
    result = run_eval(
        in_process_searchers(fake_retriever, ["routed"]),
        questions,
        documents_of(fake_retriever.settings.corpus_dir),
        pool_of(fake_retriever),
        answerers=in_process_answerers(fake_retriever, ["routed"]),
    )
    data = json.loads(write_outputs(result, tmp_path, ["dev"])[0].read_text())
    routed = data["configs"]["routed"]
    assert routed["answers"]["dev"]["n"] == 2
    assert set(routed["answers"]["dev"]["by_unit"]) == {"en: sentence", "en: table_row"}  # q005, q002
    # "What does priority action 2.6 say?" names its section: answered from it whatever the model.
    q005 = next(q for q in routed["questions"] if q["id"] == "q005")
    assert q005["answer"]["section"] == 1.0
