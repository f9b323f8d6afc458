"""Regression tests for what a newcomer's first hour and a fuzz and load run turned up (issue 12).

Each test names the finding it guards. They run on the fake-embedder index
through FastAPI's TestClient, except where a real server, process or
terminal is the point.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from cli.main import app as cli
from core.errors import SHOWN_CHARS
from core.settings import Settings, get_settings
from core.types import Answer, Filters
from eval.cli import run_dir
from index.build import build_index
from qa.answer import display_text
from qa.retrieve import Retriever
from tests.conftest import free_port, make_settings, policyqa_command
from tests.fakes import HashingEmbedder

PA_26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"


@pytest.fixture(scope="module")
def client(fake_retriever: Retriever) -> TestClient:
    return TestClient(create_app(retriever=fake_retriever))


# -- 1. text that is not valid Unicode: 422 everywhere, never the model -------------------


def test_a_lone_surrogate_in_a_chat_message_is_refused_with_422(client: TestClient) -> None:
    body = '{"model": "policyqa", "messages": [{"role": "user", "content": "\\ud83d"}]}'
    response = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "not valid Unicode" in response.json()["error"]["message"]


def test_invalid_utf8_in_a_get_query_is_refused_with_422(client: TestClient) -> None:
    # %ED%A0%BD is a UTF-16 surrogate encoded as UTF-8: invalid; the server decodes it to U+FFFD.
    response = client.get("/search?q=%ED%A0%BD")
    assert response.status_code == 422
    assert "not valid UTF-8" in response.json()["error"]["message"]


def test_a_lone_surrogate_in_post_search_is_refused_with_422(client: TestClient) -> None:
    body = '{"query": "budget \\ud83d"}'
    response = client.post("/search", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_the_cli_refuses_a_lone_surrogate_in_one_line(fake_settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(fake_settings.data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["ask", "budget \udc80"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "not valid Unicode" in result.output and "Traceback" not in result.output


# -- 2. HEAD and OPTIONS ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_load_balancer_head_probes_answer_200_without_a_body(client: TestClient, path: str) -> None:
    response = client.head(path)
    assert response.status_code == 200 and response.content == b""


def test_options_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.options("/search")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_options_of_an_unknown_path_is_404(client: TestClient) -> None:
    assert client.options("/no-such-path").status_code == 404


# -- 3. strict booleans -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", '"false"', "1"])
def test_stream_must_be_a_json_boolean(client: TestClient, value: str) -> None:
    body = f'{{"model": "policyqa", "stream": {value}, "messages": [{{"role": "user", "content": "hi"}}]}}'
    response = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "stream" in response.json()["error"]["message"]


# -- 4. errors never echo a huge value ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/sections/" + "x" * 60_000, None),
        ("get", "/passages/" + "x" * 60_000, None),
        ("get", "/documents/" + "x" * 60_000 + "/outline", None),
        ("post", "/search", {"query": "budget", "filters": {"document": "x" * 60_000}}),
        ("post", "/search", {"query": "budget", "filters": {"thematic_area": "x" * 60_000}}),
    ],
)
def test_an_error_repeats_only_a_prefix_of_the_offending_value(client: TestClient, method, path, body) -> None:
    response = client.request(method.upper(), path, json=body)
    assert response.status_code in (404, 422)
    message = response.json()["error"]["message"]
    # The value shows as at most SHOWN_CHARS characters plus its length; the valid values may follow.
    assert "x" * SHOWN_CHARS not in message
    assert "(60000 characters)" in message


# -- 7. /docs works offline ---------------------------------------------------------------


def _html_pages(client: TestClient) -> dict[str, str]:
    """Every HTML page reachable on this server: crawled from the entry points and every GET operation.

    A crawl through public surfaces (links, the OpenAPI paths) rather than the router's internals,
    which FastAPI nests differently across versions.
    """
    operations = [
        re.sub(r"\{[^}]+\}", PA_26, path)
        for path, item in client.get("/openapi.json").json()["paths"].items()
        if "get" in item
    ]
    todo = ["/", "/docs", f"/read/{PA_26}", *operations]
    pages: dict[str, str] = {}
    seen: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        pages[path] = response.text
        for link in re.findall(r"""(?:src|href)=["']?([^"' >]+)""", response.text):
            if link.startswith("/") and not link.startswith("//"):
                todo.append(link.split("#")[0].split("?")[0])
    return pages


def test_no_served_page_references_another_host(client: TestClient) -> None:
    pages = _html_pages(client)
    assert {"/", "/docs", f"/read/{PA_26}"} <= set(pages)  # the staff page, its reading view, the API docs
    outside = {
        path: re.findall(r"""(?:src|href)=["']?((?:https?:)?//[^"' >]+)""", html) for path, html in pages.items()
    }
    assert {path: urls for path, urls in outside.items() if urls} == {}
    # Swagger UI's own script and style come from this server.
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_redoc_is_not_offered(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404


# -- 8. long steps log their progress -------------------------------------------------------


def test_a_build_logs_its_steps_and_embedding_progress(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="policyqa.index")
    build_index(make_settings(tmp_path), HashingEmbedder())
    messages = [r.getMessage() for r in caplog.records if r.name == "policyqa.index"]
    assert messages[0].startswith("building the index (no index yet)")
    assert any(re.fullmatch(r"parsed 5 reports into \d+ passages", m) for m in messages)
    # The last progress line of each encoding step says all of it was done.
    assert any(re.fullmatch(r"embedded (\d+)/\1 passages \(\d+ s\)", m) for m in messages)
    assert any(re.fullmatch(r"embedded (\d+)/\1 sentences \(\d+ s\)", m) for m in messages)


# -- 10. a bad setting is one clean line --------------------------------------------------


@pytest.mark.parametrize("value", ["*", "https://intranet.example", '["*"]', '["https://x.example/path"]'])
def test_a_bad_cors_origins_setting_is_one_line_not_a_traceback(value: str, monkeypatch) -> None:
    monkeypatch.setenv("POLICYQA_CORS_ORIGINS", value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "POLICYQA_CORS_ORIGINS" in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1


# -- 11. scores follow the ranking ----------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["What does priority action 2.6 say?", "recommendation 11", "alliance point 5", "gender perspective"]
)
def test_scores_never_increase_down_the_list(fake_retriever: Retriever, query: str) -> None:
    scores = [h.score for h in fake_retriever.search(query, k=10)]
    assert scores == sorted(scores, reverse=True)


def test_a_section_read_in_order_keeps_its_relevance_in_the_components(fake_retriever: Retriever) -> None:
    hits = fake_retriever.search("What does priority action 2.6 say?", k=5)
    assert all(h.scores.get("reading_order") == 1.0 for h in hits if "route" in h.scores)
    assert all(h.score <= 4.0 + h.scores["fused"] for h in hits if "route" in h.scores)


# -- 15. each evaluation run writes to its own folder ---------------------------------------


def test_each_default_eval_run_gets_a_new_folder_and_latest_points_to_it(tmp_path: Path) -> None:
    first = run_dir(None, base=tmp_path)
    second = run_dir(None, base=tmp_path)
    assert first != second and first.parent == second.parent == tmp_path
    assert (tmp_path / "latest").resolve() == second.resolve()


def test_a_named_eval_folder_is_cleared_of_an_earlier_runs_files(tmp_path: Path) -> None:
    (tmp_path / "run.dense.trec").write_text("stale")
    (tmp_path / "notes.txt").write_text("mine")
    run_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# -- 5. a failed load tells clients a short reason, the log the detail ----------------------


def test_an_index_that_fails_to_load_answers_503_without_paths_or_library_internals(tmp_path: Path, caplog) -> None:
    settings = make_settings(tmp_path)
    embedder = HashingEmbedder()
    build_index(settings, embedder)
    faiss_file = settings.index_dir / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])  # truncated: FAISS cannot read it

    caplog.set_level(logging.ERROR, logger="policyqa.api")
    with TestClient(create_app(settings, embedder=embedder)) as client:
        deadline = time.monotonic() + 30
        while (response := client.get("/readyz")).status_code == 503 and "loading" in response.text:
            assert time.monotonic() < deadline, "the load neither finished nor failed"
            time.sleep(0.05)
        search = client.get("/search", params={"q": "budget"})
    assert response.status_code == 503 and search.status_code == 503
    message = response.json()["error"]["message"]
    assert message == search.json()["error"]["message"]
    # The file that is damaged, by name, and what to run; not where the data dir lies.
    assert message.startswith("the index could not be loaded: index file dense.faiss ")
    assert "run `policyqa build`" in message and str(tmp_path) not in message
    # The operator's log keeps the full detail, the path included.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert str(tmp_path / "data") in logged or str(tmp_path) in logged


# -- 9. Ctrl-C during the startup build stops the server at once ----------------------------


@pytest.mark.e2e
def test_ctrl_c_during_the_startup_build_exits_promptly_and_keeps_the_previous_index(tmp_path: Path) -> None:
    # An index built with the fake embedder is stale for the real models, so `serve` starts a real
    # (minutes-long) build; Ctrl-C must not wait for it (it did: 145 s) nor touch the live index.
    settings = make_settings(tmp_path)
    build_index(settings, HashingEmbedder())
    live = settings.index_dir.resolve()
    manifest = (live / "manifest.json").read_text()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path)}
    command = [policyqa_command(), "serve", "--port", str(free_port()), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the build has started once it says so
            if "building the index" in line:
                break
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        process.wait(timeout=30)
        waited = time.monotonic() - t0
    finally:
        process.kill()
    assert waited < 15, f"serve took {waited:.0f} s to stop"
    assert settings.index_dir.resolve() == live and (live / "manifest.json").read_text() == manifest


# -- 6. overload is shed, not queued ---------------------------------------------------------


@pytest.mark.e2e
def test_a_burst_beyond_the_inflight_limit_gets_only_200s_and_prompt_503s(live_server: str) -> None:
    # The live server runs with the default limit; a burst of 8x that many searches at once,
    # each question distinct (no query-vector cache), must be served or refused at once:
    # before shedding, every request queued and the last waited seconds.
    limit = Settings.model_fields["max_inflight_searches"].default
    burst = 8 * limit
    barrier = threading.Barrier(burst)
    results: list[tuple[int, float, str | None]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            barrier.wait()
            t0 = time.perf_counter()
            response = client.post("/search", json={"query": f"drug budget of the health secretariat {i}"})
            with lock:
                results.append((response.status_code, time.perf_counter() - t0, response.headers.get("retry-after")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = Counter(status for status, _, _ in results)
    assert len(results) == burst and set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0 and statuses[200] >= limit, statuses
    assert all(retry == "1" for status, _, retry in results if status == 503)
    accepted = sorted(seconds for status, seconds, _ in results if status == 200)
    # Bounded: at most `limit` searches share the 2 cores, so none waits behind the whole burst.
    assert accepted[-1] < 10.0, f"slowest accepted request took {accepted[-1]:.1f} s"


def test_policyqa_build_logs_to_a_non_terminal_while_it_waits_for_another_build(tmp_path: Path) -> None:
    # Hold the build lock as a running build would; a second `policyqa build`, its stderr a pipe
    # (a log file, CI, `make run`), must say that it waits, and keep saying so, not sit silent.
    (tmp_path / ".build.lock").touch()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path)}
    with (tmp_path / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        process = subprocess.Popen(
            [policyqa_command(), "build"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        timer = threading.Timer(30, process.kill)  # a silent build would block the reads forever
        timer.start()
        try:
            assert process.stderr is not None
            lines = [process.stderr.readline(), process.stderr.readline()]
        finally:
            timer.cancel()
            process.kill()
            process.wait(timeout=30)
    assert "another build is running; waiting for it to finish" in lines[0]
    assert re.search(r"still waiting for the other build \(\d+ s\)", lines[1]), lines


# -- schemathesis --checks all: each streamed event matches the documented event schema ------


def test_every_streamed_chat_event_matches_the_documented_event_schema(client: TestClient) -> None:
    # Schemathesis (ST108) parses a text/event-stream into events ({"data", "event"}) and validates
    # each against the media type's schema; it was documented as a plain string.
    operation = client.get("/openapi.json").json()["paths"]["/v1/chat/completions"]["post"]
    schema = operation["responses"]["200"]["content"]["text/event-stream"]["schema"]
    body = {"model": "policyqa", "stream": True, "messages": [{"role": "user", "content": "What does PA 2.6 say?"}]}
    stream = client.post("/v1/chat/completions", json=body).text
    events = [
        {"event": "message", "data": "\n".join(line[len("data: ") :] for line in block.splitlines())}
        for block in stream.strip().split("\r\n\r\n" if "\r\n\r\n" in stream else "\n\n")
    ]
    assert len(events) >= 3 and events[-1]["data"] == "[DONE]"
    for event in events:
        jsonschema.validate(event, schema)


# -- 13, 14. every command in the README runs as written ------------------------------------

_README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_commands() -> list[str]:
    """The command lines of the README's ``sh`` blocks (comments and continuations joined)."""
    blocks = re.findall(r"```(?:sh|bash|console)\n(.*?)```", _README.read_text(encoding="utf-8"), flags=re.S)
    text = "\n".join(blocks).replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_every_readme_command_names_a_program_a_fresh_clone_has() -> None:
    # Bare `policyqa` is not on a fresh clone's PATH: the venv's script is, once `make setup` ran.
    commands = _readme_commands()
    programs = {line.split()[0] for line in commands}
    assert programs <= {"make", ".venv/bin/policyqa", ".venv/bin/python", ".venv/bin/ir_measures", "curl"}, programs
    assert any(line.startswith(".venv/bin/policyqa eval") for line in commands)


def test_no_readme_command_holds_usage_notation() -> None:
    # "[--json]" belongs in a usage line: pasted into a shell it is a glob, not an option.
    assert [line for line in _readme_commands() if re.search(r"\[--|\||<[A-Z]", line)] == []


def test_the_readme_documents_build_force() -> None:
    assert ".venv/bin/policyqa build --force" in _readme_commands()


# -- 12. headings and markdown markers are never an answer's words ---------------------------


@pytest.mark.e2e
def test_a_filtered_question_is_not_answered_with_a_heading(real_retriever: Retriever) -> None:
    # It was: "##### **Foster ongoing training…**", a priority action's heading.
    answered = real_retriever.ask("certification of treatment staff", filters=Filters(thematic_area="prevention"))
    answer = answered.answer
    assert answer is not None
    assert not answer.text.lstrip().startswith("#") and not answer.text.strip().startswith("**")
    assert not re.search(r"#{2,}|\*\*|__", display_text(answer))


def test_the_display_text_drops_markdown_markers_and_keeps_the_words(fake_retriever: Retriever) -> None:
    # Elementa puts emphasis inside sentences; the answer's span stays verbatim, what is shown does not.
    passage = next(p for p in fake_retriever.index.passages if "**war-oriented strategy**" in p.text)
    start = passage.text.index("Throughout the administration")
    end = passage.text.index(".", start) + 1
    answer = Answer(passage.text[start:end], 0.9, passage, passage.start + start, passage.start + end)
    shown_text = display_text(answer)
    assert "**" not in shown_text and "the war-oriented strategy to combat" in shown_text
