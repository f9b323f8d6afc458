"""End to end: ``policyqa serve`` on loopback with the real index, driven by httpx and the official openai client."""

from __future__ import annotations

import json

import httpx
import pytest
from openai import OpenAI

from core.settings import PROJECT_ROOT
from corpus import read_text
from qa.retrieve import Retriever

pytestmark = pytest.mark.e2e

QUESTIONS = [
    json.loads(line)["query"]
    for line in (PROJECT_ROOT / "eval" / "answerability.jsonl").read_text(encoding="utf-8").splitlines()
]
PA_26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"


@pytest.fixture(scope="module")
def server(live_server: str) -> str:
    return live_server


@pytest.fixture(scope="module")
def texts(real_retriever: Retriever) -> dict[str, str]:
    settings = real_retriever.settings
    return {d.id: read_text(d, settings.corpus_dir) for d in real_retriever.index.documents.values()}


@pytest.fixture(scope="module")
def searches(server: str) -> list[dict]:
    """POST /search for every question of the answerability set, top 10."""
    with httpx.Client(base_url=server, timeout=30) as client:
        return [client.post("/search", json={"query": q, "top_k": 10}).json() for q in QUESTIONS]


@pytest.fixture(scope="module")
def openai_client(server: str) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="not-needed", max_retries=0)


def test_every_result_span_slices_the_corpus_file_to_its_text(searches: list[dict], texts: dict[str, str]) -> None:
    results = [r for s in searches for r in s["results"]]
    assert len(results) == 10 * len(QUESTIONS)  # each question fills its top 10
    for r in results:
        c = r["citation"]
        assert texts[c["document_id"]][c["char_start"] : c["char_end"]] == r["text"], r["passage_id"]


def test_every_answer_span_slices_the_corpus_file_to_its_text(searches: list[dict], texts: dict[str, str]) -> None:
    answers = [s["answer"] for s in searches if s["answer"]]
    assert answers
    for a in answers:
        c = a["citation"]
        assert texts[c["document_id"]][c["char_start"] : c["char_end"]] == a["text"]


def test_every_section_id_from_search_resolves(server: str, searches: list[dict]) -> None:
    ids = {r["citation"]["section_id"] for s in searches for r in s["results"]}
    with httpx.Client(base_url=server, timeout=30) as client:
        statuses = {sid: client.get(f"/sections/{sid}").status_code for sid in ids}
    assert {sid for sid, status in statuses.items() if status != 200} == set()


def test_get_search_answers_like_post(server: str, searches: list[dict]) -> None:
    got = httpx.get(f"{server}/search", params={"q": QUESTIONS[0], "top_k": 10}, timeout=30).json()
    assert [r["passage_id"] for r in got["results"]] == [r["passage_id"] for r in searches[0]["results"]]


def test_out_of_domain_question_gets_no_answer(server: str) -> None:
    body = httpx.post(f"{server}/search", json={"query": "How do I bake sourdough bread?"}, timeout=30).json()
    assert body["answer"] is None


def test_openai_client_lists_the_model(openai_client: OpenAI) -> None:
    assert [m.id for m in openai_client.models.list()] == ["policyqa"]


def test_openai_client_gets_a_cited_reply(openai_client: OpenAI, texts: dict[str, str]) -> None:
    completion = openai_client.chat.completions.create(
        model="policyqa", messages=[{"role": "user", "content": "What does priority action 2.6 say?"}]
    )
    content = completion.choices[0].message.content or ""
    citations = (completion.model_extra or {})["citations"]
    assert citations[0]["section_id"] == PA_26
    answer = texts["mem-mexico-2024"][citations[0]["char_start"] : citations[0]["char_end"]]
    assert content.startswith(answer + " [1]")


def test_openai_client_streams_the_same_reply(openai_client: OpenAI) -> None:
    messages = [{"role": "user", "content": "Does Mexico have a national drug observatory?"}]
    plain = openai_client.chat.completions.create(model="policyqa", messages=messages)  # type: ignore[arg-type]
    chunks = list(openai_client.chat.completions.create(model="policyqa", messages=messages, stream=True))  # type: ignore[arg-type]
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["citations"] == (plain.model_extra or {})["citations"]


def test_eval_over_http_scores_what_the_in_process_retriever_scores(server: str, real_retriever: Retriever) -> None:
    from eval.gold import load_gold
    from eval.run import (
        documents_of,
        http_answerer,
        http_searcher,
        in_process_answerers,
        in_process_searchers,
        run_eval,
    )

    questions = [q for q in load_gold() if q.id in {"q002", "q005", "q019"}]  # a table row, a section, a list
    documents = documents_of(real_retriever.settings.corpus_dir)
    over_http = run_eval({"api": http_searcher(server)}, questions, documents, answerers={"api": http_answerer(server)})
    local = run_eval(
        in_process_searchers(real_retriever, ["routed"]),
        questions,
        documents,
        answerers=in_process_answerers(real_retriever, ["routed"]),
    )
    (api,), (routed,) = over_http.configs, local.configs
    # The server's default is routed: one POST /search per question gives the same ranking and answer.
    assert {q: [r.passage_id for r in hits] for q, hits in api.ranked.items()} == {
        q: [r.passage_id for r in hits] for q, hits in routed.ranked.items()
    }
    assert api.answers == routed.answers
    assert api.answer_scores == routed.answer_scores
