"""The comparison view over the real index, through ``policyqa serve``: the issue's extradition question."""

from __future__ import annotations

import httpx
import pytest

from corpus import read_text
from qa.retrieve import Retriever

pytestmark = pytest.mark.e2e

EXTRADITION = "What does each report say about extradition?"
SPEAKING = {"mem-mexico-2024", "elementa-warlike-approach-2024", "us-mexico-binational-drug-strategy-1998"}
SILENT = {"unodc-honlac-29-2019", "state-inl-mexico-fact-sheet-2005"}


@pytest.fixture(scope="module")
def groups(live_server: str) -> dict[str, dict]:
    body = {"query": EXTRADITION, "group_by": "document"}
    response = httpx.post(f"{live_server}/search", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return {g["document_id"]: g for g in response.json()["groups"]}


def test_reports_that_never_mention_extradition_are_not_relevant(groups: dict[str, dict]) -> None:
    for document_id in SILENT:
        assert (groups[document_id]["relevant"], groups[document_id]["answer"]) == (False, None)
        assert groups[document_id]["results"] == []


def test_the_other_three_answer_about_extradition(groups: dict[str, dict]) -> None:
    for document_id in SPEAKING:
        group = groups[document_id]
        assert group["relevant"] is True
        assert "extradit" in group["answer"]["text"].lower(), group["answer"]["text"]
        assert group["answer"]["display"].endswith("."), group["answer"]["display"]  # a statement, not a label
        assert group["results"] and all(r["citation"]["document_id"] == document_id for r in group["results"])


def test_the_reports_that_speak_come_first(live_server: str) -> None:
    body = {"query": EXTRADITION, "group_by": "document"}
    order = [g["relevant"] for g in httpx.post(f"{live_server}/search", json=body, timeout=60).json()["groups"]]
    assert order == [True, True, True, False, False]


def test_each_answer_span_is_verbatim_in_its_report(groups: dict[str, dict], real_retriever: Retriever) -> None:
    for document_id in SPEAKING:
        answer = groups[document_id]["answer"]
        document = real_retriever.index.documents[document_id]
        text = read_text(document, real_retriever.settings.corpus_dir)
        assert text[answer["citation"]["char_start"] : answer["citation"]["char_end"]] == answer["text"]
