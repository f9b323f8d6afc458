"""The Spanish gold set ``eval/gold_es.jsonl``: well formed, faithful to the corpus, as eval/README.md says.

Spanish questions over the English reports: same fields as the English set
plus ``language``, English evidence quotes, and each question's split equal
to that of the English question with the same evidence, so no test-split
evidence is tuned on through its Spanish twin.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from corpus import load_catalog, load_corpus
from eval.gold import load_gold_sets
from qa.lang import detect_language

EVAL = Path(__file__).resolve().parents[1] / "eval"
FIELDS = {"id", "question", "language", "kind", "document_id", "gold_sections", "evidence", "split"}


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (EVAL / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return _rows("gold_es.jsonl")


def test_at_least_60_spanish_questions_with_the_documented_fields(rows: list[dict]) -> None:
    assert len(rows) >= 60
    assert [r["id"] for r in rows if set(r) != FIELDS or r["language"] != "es"] == []


def test_ids_are_unique_and_distinct_from_the_english_set(rows: list[dict]) -> None:
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {r["id"] for r in _rows("gold.jsonl")}
    assert len(load_gold_sets()) == len(ids) + len(_rows("gold.jsonl"))


def test_every_question_reads_as_spanish(rows: list[dict]) -> None:
    assert [r["question"] for r in rows if detect_language(r["question"]) != "es"] == []


def test_all_five_reports_and_both_splits_are_covered(rows: list[dict]) -> None:
    assert {r["document_id"] for r in rows} == {d.id for d in load_catalog()}
    splits = Counter(r["split"] for r in rows)
    assert set(splits) == {"dev", "test"} and splits["test"] >= 10


def test_about_ten_questions_name_a_section_number(rows: list[dict]) -> None:
    assert 10 <= sum(r["kind"] == "section_number" for r in rows) <= 16


def test_quotes_stand_verbatim_in_their_sections_own_text(rows: list[dict]) -> None:
    sections = {s.id: (s, doc.text) for doc in load_corpus() for s in doc.walk()}
    missing = []
    for r in rows:
        assert {e["section_id"] for e in r["evidence"]} == set(r["gold_sections"]), r["id"]
        for e in r["evidence"]:
            section, text = sections[e["section_id"]]
            spans = ([section.heading] if section.heading else []) + list(section.body)
            if not any(e["quote"] in text[a:b] for a, b in spans):
                missing.append(r["id"])
    assert missing == []


def test_each_split_follows_the_english_question_with_the_same_evidence(rows: list[dict]) -> None:
    english = {json.dumps(r["evidence"], sort_keys=True): r["split"] for r in _rows("gold.jsonl")}
    assert [r["id"] for r in rows if english.get(json.dumps(r["evidence"], sort_keys=True)) != r["split"]] == []
