"""The HTTP API over the fake-embedder index, through FastAPI's TestClient (no model, no server)."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from api.app import MAX_BODY_BYTES, create_app
from core.settings import Settings
from corpus import read_text
from qa.display import display_passage
from qa.retrieve import Retriever

PA_26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"
QUERIES = [
    "gender perspective in drug policy",
    "national drug observatory",
    "extradition of drug traffickers",
    "money laundering investigations",
    "alternative development programs",
    "border control programs",
    "military deployment and the National Guard",
    "precursor chemicals control",
    "confidence-building measures between agencies",
    "treatment services for people who use drugs",
]


@pytest.fixture(scope="module")
def client(fake_retriever: Retriever) -> TestClient:
    return TestClient(create_app(retriever=fake_retriever))


@pytest.fixture(scope="module")
def texts(fake_retriever: Retriever) -> dict[str, str]:
    settings = fake_retriever.settings
    return {d.id: read_text(d, settings.corpus_dir) for d in fake_retriever.index.documents.values()}


def _search(client: TestClient, query: str, top_k: int = 10, **filters: str) -> dict:
    response = client.post("/search", json={"query": query, "top_k": top_k, "filters": filters or None})
    assert response.status_code == 200, response.text
    return response.json()


# -- search ----------------------------------------------------------------------


def test_search_returns_top_k_ranked_results(client: TestClient) -> None:
    body = _search(client, "gender perspective in drug policy", top_k=7)
    assert [r["rank"] for r in body["results"]] == [1, 2, 3, 4, 5, 6, 7]


def test_search_result_spans_slice_the_corpus_file_to_the_result_text(
    client: TestClient, texts: dict[str, str]
) -> None:
    checked = 0
    for query in QUERIES:
        for r in _search(client, query)["results"]:
            c = r["citation"]
            assert texts[c["document_id"]][c["char_start"] : c["char_end"]] == r["text"]
            checked += 1
    assert checked == 10 * len(QUERIES)  # every query fills top_k=10 from ~800 passages


def test_answer_span_slices_the_corpus_file_to_the_answer_text(client: TestClient, texts: dict[str, str]) -> None:
    # "priority action 2.6" is routed, so an answer is given whatever the fake embedder's scores.
    answer = _search(client, "What does priority action 2.6 say?")["answer"]
    c = answer["citation"]
    assert c["section_id"] == PA_26
    assert texts[c["document_id"]][c["char_start"] : c["char_end"]] == answer["text"]


def test_answer_is_null_when_no_sentence_reaches_the_threshold(fake_retriever: Retriever) -> None:
    # Cosines are at most 1, so a threshold above 1 leaves only routed queries answered.
    settings = fake_retriever.settings.model_copy(update={"answer_min_score": 1.0001})
    strict = Retriever(fake_retriever.index, fake_retriever.embedder, settings)
    body = TestClient(create_app(retriever=strict)).post("/search", json={"query": "national drug observatory"})
    assert body.json()["answer"] is None


def test_get_search_returns_the_same_results_as_post(client: TestClient) -> None:
    posted = _search(client, "extradition of drug traffickers", top_k=5, document="mem-mexico-2024")
    got = client.get(
        "/search", params={"q": "extradition of drug traffickers", "top_k": 5, "document": "mem-mexico-2024"}
    ).json()
    assert [r["passage_id"] for r in got["results"]] == [r["passage_id"] for r in posted["results"]]


def test_document_filter_keeps_only_that_document(client: TestClient) -> None:
    body = _search(client, "drug trafficking", top_k=20, document="unodc-honlac-29-2019")
    assert {r["citation"]["document_id"] for r in body["results"]} == {"unodc-honlac-29-2019"}


def test_priority_action_filter_keeps_only_that_priority_action(client: TestClient) -> None:
    body = _search(client, "programs", top_k=50, priority_action="2.6")
    # PA 2.6 owns six passages (its own body, chunked); all of them and nothing else come back.
    assert len(body["results"]) == 6
    assert {r["citation"]["section_id"] for r in body["results"]} == {PA_26}


def test_thematic_area_filter_accepts_part_of_the_name(client: TestClient) -> None:
    body = _search(client, "programs", top_k=20, thematic_area="prevention")
    areas = {r["citation"]["path"][0]["title"] for r in body["results"]}
    assert areas == {"Measures of Prevention, Treatment and Recovery Support"}


# -- input errors ----------------------------------------------------------------


def _error(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    return response.json()["error"]["message"]


def test_empty_query_is_refused_with_the_field_named(client: TestClient) -> None:
    assert _error(client.post("/search", json={"query": ""})) == "query: String should have at least 1 character"


def test_blank_query_is_refused_with_an_example_question(client: TestClient) -> None:
    assert "query is empty" in _error(client.post("/search", json={"query": "   "}))


def test_query_over_2000_characters_is_refused(client: TestClient) -> None:
    message = _error(client.post("/search", json={"query": "a" * 2001}))
    assert message == "query: String should have at most 2000 characters"


@pytest.mark.parametrize(("top_k", "bound"), [(0, "greater than or equal to 1"), (51, "less than or equal to 50")])
def test_top_k_out_of_range_is_refused(client: TestClient, top_k: int, bound: str) -> None:
    assert _error(client.post("/search", json={"query": "drugs", "top_k": top_k})) == f"top_k: Input should be {bound}"


def test_unknown_filter_value_lists_the_valid_values(client: TestClient) -> None:
    message = _error(client.post("/search", json={"query": "drugs", "filters": {"objective": "99"}}))
    # MEM objectives are numbered 1-12 across its thematic areas.
    assert message == "objective '99' matches nothing; valid: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"


def test_unknown_document_filter_lists_the_document_ids(client: TestClient) -> None:
    message = _error(client.get("/search", params={"q": "drugs", "document": "nope"}))
    assert message.startswith("document 'nope' does not exist; valid: elementa-warlike-approach-2024, ")


def test_misspelt_filter_name_is_refused_not_ignored(client: TestClient) -> None:
    message = _error(client.post("/search", json={"query": "drugs", "filters": {"documnet": "x"}}))
    # Other names may be kinds found in added reports (``filters`` takes them), so the engine checks the
    # name when the search runs; the valid ones are listed (those other tests' reports added come after).
    assert message.startswith("unknown filter 'documnet'; valid: document, thematic_area, objective, priority_action")


def test_lone_surrogate_in_query_is_refused(client: TestClient) -> None:
    # Valid JSON but not text; it must not reach the model's tokenizer.
    body = '{"query": "drugs \\ud800"}'
    response = client.post("/search", content=body, headers={"content-type": "application/json"})
    assert _error(response) == "query: Input should be a valid string, unable to parse raw data as a unicode string"


def test_body_over_64_kib_is_refused_with_413(client: TestClient) -> None:
    body = json.dumps({"query": "a" * MAX_BODY_BYTES})
    response = client.post("/search", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_entity_too_large"


def test_streamed_body_over_64_kib_is_refused_with_413(client: TestClient) -> None:
    # Without a Content-Length the limit is enforced while reading.
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"query": "'
        for _ in range(70):
            yield b"a" * 1024
        yield b'"}'

    response = client.post("/search", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


# -- lookups ---------------------------------------------------------------------


def test_every_section_id_from_search_resolves(client: TestClient) -> None:
    ids = {r["citation"]["section_id"] for q in QUERIES for r in _search(client, q)["results"]}
    statuses = {sid: client.get(f"/sections/{sid}").status_code for sid in ids}
    assert set(statuses.values()) == {200}


def test_section_text_is_the_verbatim_slice_with_heading(client: TestClient, texts: dict[str, str]) -> None:
    body = client.get(f"/sections/{PA_26}").json()
    assert texts["mem-mexico-2024"][body["char_start"] : body["char_end"]] == body["text"]
    assert body["text"].startswith("**Priority Action 2.6: Integrate a human rights")
    assert body["parent_id"] == PA_26.rsplit("/", 1)[0]


def test_section_lists_its_own_passages_in_order(client: TestClient, fake_retriever: Retriever) -> None:
    body = client.get(f"/sections/{PA_26}").json()
    index = fake_retriever.index
    assert body["passage_ids"] == [index.passages[i].id for i in index.section_passages[PA_26]]


def test_section_lists_its_children(client: TestClient) -> None:
    body = client.get("/sections/mem-mexico-2024/thematic_area-institutional-strengthening/objective-2").json()
    # The MEM report evaluates only some priority actions of objective 2: 2.3, 2.6 and 2.7.
    assert [c["number"] for c in body["children"]] == ["2.3", "2.6", "2.7"]


def test_passage_links_to_its_neighbours(client: TestClient, fake_retriever: Retriever) -> None:
    second = fake_retriever.index.passages[1]
    body = client.get(f"/passages/{second.id}").json()
    assert body["previous_passage_id"] == fake_retriever.index.passages[0].id
    assert body["next_passage_id"] == fake_retriever.index.passages[2].id


def test_first_passage_has_no_previous(client: TestClient, fake_retriever: Retriever) -> None:
    body = client.get(f"/passages/{fake_retriever.index.passages[0].id}").json()
    assert body["previous_passage_id"] is None


def test_documents_lists_the_catalog(client: TestClient) -> None:
    ids = sorted(d["id"] for d in client.get("/documents").json())
    assert ids == [
        "elementa-warlike-approach-2024",
        "mem-mexico-2024",
        "state-inl-mexico-fact-sheet-2005",
        "unodc-honlac-29-2019",
        "us-mexico-binational-drug-strategy-1998",
    ]


def test_outline_lists_the_top_level_sections(client: TestClient) -> None:
    body = client.get("/documents/mem-mexico-2024/outline").json()
    # Cover and preface, MEM's five thematic areas, back cover.
    assert [c["kind"] for c in body["children"]] == ["section", "section"] + ["thematic_area"] * 5 + ["section"]


@pytest.mark.parametrize(
    "path", ["/sections/mem-mexico-2024/nope", "/passages/nope", "/documents/nope/outline", "/nowhere"]
)
def test_unknown_id_answers_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


def test_reading_view_of_a_known_section_is_the_page(client: TestClient) -> None:
    response = client.get(f"/read/{PA_26}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_reading_view_of_an_unknown_section_is_a_404_page(client: TestClient) -> None:
    # A dead link is dead to a link checker too; the page itself still tells the reader.
    response = client.get(f"/read/{PA_26}9")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == client.get("/").text


# -- health, CORS, OpenAPI ---------------------------------------------------------


def test_ready_when_a_retriever_is_given(client: TestClient, fake_retriever: Retriever) -> None:
    body = client.get("/readyz").json()
    # The build served is the fake index's folder under data/builds; loaded_at is when the app got it.
    assert (body["status"], body["build_id"]) == ("ready", fake_retriever.index.root.name)
    assert time.strptime(body["loaded_at"], "%Y-%m-%dT%H:%M:%SZ")


def test_not_ready_before_the_index_is_loaded(fake_settings: Settings) -> None:
    # Without entering the client, the lifespan (which loads the index) never runs.
    unloaded = TestClient(create_app(fake_settings))
    assert unloaded.get("/healthz").status_code == 200
    assert unloaded.get("/readyz").status_code == 503
    assert unloaded.post("/search", json={"query": "drugs"}).status_code == 503


def test_no_cors_origin_is_allowed_by_default(client: TestClient) -> None:
    response = client.get("/healthz", headers={"origin": "https://chat.example.org"})
    assert "access-control-allow-origin" not in response.headers


def test_configured_cors_origin_is_allowed(fake_retriever: Retriever) -> None:
    settings = fake_retriever.settings.model_copy(update={"cors_origins": ["https://chat.example.org"]})
    app = create_app(settings, Retriever(fake_retriever.index, fake_retriever.embedder, settings))
    response = TestClient(app).get("/healthz", headers={"origin": "https://chat.example.org"})
    assert response.headers["access-control-allow-origin"] == "https://chat.example.org"


def test_every_operation_is_described_for_tool_importers(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    # search x2, section, passage, documents, outline, file, filters, healthz, readyz, models, chat
    assert len(operations) == 12
    for op in operations:
        assert op["summary"] and op["description"] and op["operationId"]


def test_every_operation_input_has_an_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in schema["paths"].values():
        for op in path.values():
            for param in op.get("parameters", []):
                assert param["schema"].get("examples") or param.get("examples"), (op["operationId"], param)
            if "requestBody" in op:
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                model = schema["components"]["schemas"][ref]
                assert model.get("examples") or any("examples" in p for p in model["properties"].values())


# -- OpenAI-compatible chat ------------------------------------------------------


def _chat(client: TestClient, content: str, **extra: object):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/chat/completions", json={"model": "policyqa", "messages": [{"role": "user", "content": content}], **extra}
    )


def test_models_lists_policyqa(client: TestClient) -> None:
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["policyqa"]


def test_chat_reply_cites_its_numbered_sources(client: TestClient) -> None:
    body = _chat(client, "What does priority action 2.6 say?").json()
    content = body["choices"][0]["message"]["content"]
    citations = body["citations"]
    assert citations[0]["section_id"] == PA_26
    for c in citations:
        assert f"[{c['index']}] {c['label']} ({c['section_id']})" in content


def test_chat_reads_the_last_user_message(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "national drug observatory"},
        {"role": "assistant", "content": "..."},
        {"role": "user", "content": [{"type": "text", "text": "What does priority action 2.6 say?"}]},
    ]
    body = client.post("/v1/chat/completions", json={"model": "policyqa", "messages": messages}).json()
    assert body["citations"][0]["section_id"] == PA_26


def test_chat_without_a_user_message_is_refused(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", json={"model": "policyqa", "messages": [{"role": "system", "content": "hi"}]}
    )
    assert _error(response) == "messages hold no user message; the last user message is the question"


def test_chat_with_an_unknown_model_answers_404(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}
    )
    assert response.status_code == 404


def test_chat_stream_sends_chunks_then_done(client: TestClient) -> None:
    response = _chat(client, "What does priority action 2.6 say?", stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    plain = _chat(client, "What does priority action 2.6 say?").json()
    assert streamed == plain["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["citations"] == plain["citations"]


def test_a_shared_body_cites_every_priority_action_it_belongs_to(client) -> None:
    # MEM Prevention 2.1, 2.4 and 2.5 stand over one body; its passages cite all three.
    body = client.post("/search", json={"query": "priority action 2.4 under prevention", "top_k": 1}).json()
    citation = body["results"][0]["citation"]
    ptr = "mem-mexico-2024/thematic_area-measures-of-prevention-treatment-and-recovery/objective-2"
    assert citation["section_ids"] == [f"{ptr}/priority_action-{n}" for n in ("2.1", "2.4", "2.5")]
    assert citation["label"].endswith("Priority Actions 2.1, 2.4, 2.5")


# -- grouping by report, filters, reading-order neighbours ---------------------------


def _client_with_threshold(retriever: Retriever, threshold: float) -> TestClient:
    settings = Settings(**{**retriever.settings.model_dump(), "answer_min_score": threshold})
    return TestClient(create_app(retriever=Retriever(retriever.index, retriever.embedder, settings)))


def test_group_by_document_gives_each_relevant_report_its_own_answer(fake_retriever: Retriever) -> None:
    client = _client_with_threshold(fake_retriever, -1.0)  # every report clears it
    body = {"query": "extradition of drug traffickers", "top_k": 3, "group_by": "document", "per_document": 2}
    data = client.post("/search", json=body).json()
    groups = data["groups"]
    assert sorted(g["document_id"] for g in groups) == sorted(fake_retriever.index.documents)
    assert all(g["relevant"] is True and g["answer"] is not None for g in groups)
    assert all(g["answer"]["citation"]["document_id"] == g["document_id"] for g in groups)
    assert all(1 <= len(g["results"]) <= 2 for g in groups)
    assert all(r["citation"]["document_id"] == g["document_id"] for g in groups for r in g["results"])
    assert [g["relevance"] for g in groups] == sorted((g["relevance"] for g in groups), reverse=True)
    assert {g["short_title"] for g in groups} >= {"MEM Mexico 2024", "UNODC HONLAC 29 (2019)"}
    assert len(data["results"]) == 3


def test_group_by_document_marks_a_report_below_the_threshold_not_relevant(fake_retriever: Retriever) -> None:
    client = _client_with_threshold(fake_retriever, 1.0)  # no report clears it
    body = {"query": "extradition of drug traffickers", "group_by": "document"}
    groups = client.post("/search", json=body).json()["groups"]
    assert len(groups) == 5
    assert [(g["relevant"], g["answer"], g["results"]) for g in groups] == [(False, None, [])] * 5


def test_every_result_has_a_display_form_and_a_reading_url(client: TestClient, fake_retriever: Retriever) -> None:
    results = _search(client, "treatment services for people who use drugs")["results"]
    base = fake_retriever.settings.public_url
    for r in results:
        c = r["citation"]
        assert r["url"] == f"{base}/read/{c['section_id']}?start={c['char_start']}&end={c['char_end']}"
        assert "**" not in r["display"] and "\n\n\n" not in r["display"]
    # The display form only drops markers and breaks: the same words.
    assert any(r["display"] != r["text"] for r in results)
    assert all(r["display"].split() == display_passage(r["text"]).split() for r in results)


def test_a_passage_lookup_has_its_display_form(client: TestClient, fake_retriever: Retriever) -> None:
    passage = fake_retriever.index.passages[0]
    body = client.get(f"/passages/{passage.id}").json()
    assert body["text"] == passage.text and body["display"] == display_passage(passage.text)


def test_search_says_when_the_question_asks_for_a_comparison(client: TestClient) -> None:
    assert _search(client, "What does each report say about extradition?")["asks_comparison"] is True
    assert _search(client, "extradition of drug traffickers")["asks_comparison"] is False


def test_group_by_document_with_a_report_filter_has_one_group(client: TestClient) -> None:
    params = {"q": "extradition", "group_by": "document", "document": "unodc-honlac-29-2019"}
    groups = client.get("/search", params=params).json()["groups"]
    assert [g["document_id"] for g in groups] == ["unodc-honlac-29-2019"]


def test_without_group_by_there_are_no_groups(client: TestClient) -> None:
    assert _search(client, "extradition")["groups"] is None


def test_unknown_group_by_is_refused(client: TestClient) -> None:
    response = client.post("/search", json={"query": "extradition", "group_by": "section"})
    assert response.status_code == 422 and "group_by" in response.json()["error"]["message"]


def test_a_result_of_a_named_section_is_marked_routed(client: TestClient) -> None:
    results = _search(client, "What does priority action 2.6 say?", top_k=3)["results"]
    assert results[0]["routed"] is True and results[0]["citation"]["section_id"] == PA_26
    assert _search(client, "gender perspective in drug policy", top_k=1)["results"][0]["routed"] is False


def test_filters_lists_what_each_filter_accepts(client: TestClient, fake_retriever: Retriever) -> None:
    values = client.get("/filters").json()
    assert values["document"] == sorted(fake_retriever.index.documents)
    # The MEM has five thematic areas (corpus README); a filter form offers exactly those.
    assert len(values["thematic_area"]) == 5 and "Institutional Strengthening" in values["thematic_area"]
    assert "2.6" in values["priority_action"]


def test_section_carries_its_ancestors_and_reading_order_neighbours(client: TestClient) -> None:
    section = client.get(f"/sections/{PA_26}").json()
    ancestors = section["ancestors"]
    assert [(a["kind"], a["number"]) for a in ancestors] == [("thematic_area", None), ("objective", "2")]
    assert ancestors[-1]["section_id"] == section["parent_id"]
    previous = client.get(f"/sections/{section['previous_section_id']}").json()
    following = client.get(f"/sections/{section['next_section_id']}").json()
    # Reading order is the order of the headings in the report's file; the links go both ways.
    assert previous["char_start"] < section["char_start"] < following["char_start"]
    assert previous["next_section_id"] == PA_26 and following["previous_section_id"] == PA_26
    assert following["number"] == "2.7"


def test_section_pieces_hold_only_the_sections_own_text(client: TestClient, texts: dict[str, str]) -> None:
    # PTR Objective 4's assessment and its annex priority actions stand apart in the file, with
    # Objective 5 between them: `text` spans Objective 5 too, the pieces do not.
    sid = "mem-mexico-2024/thematic_area-measures-of-prevention-treatment-and-recovery/objective-4"
    section = client.get(f"/sections/{sid}").json()
    pieces = section["pieces"]
    assert all(p["text"] == texts["mem-mexico-2024"][p["char_start"] : p["char_end"]] for p in pieces)
    assert "**Objective 5**" in section["text"]
    assert not any("**Objective 5**" in p["text"] for p in pieces)
    assert pieces[0]["char_start"] == section["char_start"] and pieces[-1]["char_end"] == section["char_end"]


# -- language ---------------------------------------------------------------------


def test_search_reports_the_detected_language(client: TestClient) -> None:
    assert _search(client, "What does priority action 2.6 say?")["language"] == "en"
    assert _search(client, "¿Qué dice la acción prioritaria 2.6?")["language"] == "es"


def test_search_language_in_the_request_overrides_detection(client: TestClient) -> None:
    response = client.post("/search", json={"query": "What does priority action 2.6 say?", "language": "es"})
    assert response.json()["language"] == "es"
    assert client.get("/search", params={"q": "paragraph 57", "language": "es"}).json()["language"] == "es"


def test_search_refuses_an_unsupported_language(client: TestClient) -> None:
    response = client.post("/search", json={"query": "paragraph 57", "language": "fr"})
    assert response.status_code == 422


def test_thematic_area_filter_accepts_the_spanish_name(client: TestClient) -> None:
    body = _search(client, "gender perspective", thematic_area="Fortalecimiento Institucional")
    titles = {r["citation"]["path"][0]["title"] for r in body["results"]}
    assert titles == {"Institutional Strengthening"}


def test_chat_frames_a_spanish_question_in_spanish_and_quotes_english(client: TestClient) -> None:
    body = _chat(client, "¿Qué dice la acción prioritaria 2.6?").json()
    content = body["choices"][0]["message"]["content"]
    assert "Fuentes (texto original en inglés):" in content
    assert "Sources:" not in content
    # The quoted label is the report's own English citation, never translated.
    assert f"[1] {body['citations'][0]['label']}" in content
    assert "Priority Action 2.6" in body["citations"][0]["label"]
