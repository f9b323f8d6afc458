"""A kind the generic scheme finds in an added report ("Article 2") filters on every face, not only in the engine.

The faces build their filter parameters from ``qa.filters.filter_specs()``
when they are imported, before any such report is loaded: REST, MCP and the
CLI used to refuse (POST), ignore (GET, MCP) or not know (``ask``) the new
kind's filter, and GET /filters left it out.

A label the generic scheme finds that names a built-in kind ("Goal 2",
"Recommendation 11") filters too: every numbered kind filters by number.
Such kinds used to be cited and routed but refused or ignored as filters.
GET /filters lists only the kinds some loaded report has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from typer.testing import CliRunner

from api.app import create_app
from api.deps import Loaded, ready_state
from api.mcp import create_mcp_server
from cli.main import app
from core.settings import PROJECT_ROOT
from corpus.kinds import discover_kind
from index.add import add_document, remove_document
from qa.retrieve import Retriever
from tests.fakes import HashingEmbedder
from tests.library_fixtures import REPORT_MD, library

QUESTION = "treatment in every province"
"""Words of all three articles of ``REPORT_MD``: unfiltered, the results come from more than one."""


PLAN_MD = """# National Plan on Drugs 2030

## Pillar 1. Prevention

Schools teach prevention, and every province offers treatment to young people who ask for it.

## Pillar 2. Treatment

Every province opens a certified treatment centre with trained staff.

## Pillar 3. Control

Customs and police share seizure data; courts may order treatment instead of prison.
"""
"""A report whose kind ("Pillar") no other test's report has: it is registered only when this report loads."""


GOALS_MD = """# National Drug Policy Plan 2025-2030

## Goal 1. Prevention

Schools teach prevention, and every municipality offers treatment to young people who ask for it.

## Goal 2. Treatment

Every municipality opens a certified treatment clinic with trained staff and free treatment.

## Goal 3. Control

Customs and police share seizure data; judges may order treatment in the municipality instead of prison.
"""
"""A report numbered by "Goal", a kind ``corpus.kinds`` ships (cited and routed) that no face had a filter for."""
GOAL_QUESTION = "treatment in every municipality"
"""Words of all three goals of ``GOALS_MD``: unfiltered, the results come from more than one."""


def _added(root: Path, text: str, doc_id: str) -> Retriever:
    """A library holding only ``text`` as ``doc_id`` (generic scheme), indexed with the hashing embedder."""
    settings = library(root, bundled=())
    path = root / f"{doc_id}.md"
    path.write_text(text, encoding="utf-8")
    embedder = HashingEmbedder()
    add_document(settings, path, doc_id=doc_id, embedder=embedder)
    return Retriever.open(settings, embedder)


@pytest.fixture(scope="module")
def strategy(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """``REPORT_MD``: articles 1-3, found by the generic scheme."""
    return _added(tmp_path_factory.mktemp("strategy"), REPORT_MD, "strategy-2030")


@pytest.fixture(scope="module")
def client(strategy: Retriever) -> TestClient:
    return TestClient(create_app(retriever=strategy))


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """``GOALS_MD``: goals 1-3, found by the generic scheme."""
    return _added(tmp_path_factory.mktemp("plan"), GOALS_MD, "plan-2025")


@pytest.fixture(scope="module")
def plan_client(plan: Retriever) -> TestClient:
    return TestClient(create_app(retriever=plan))


def _articles(section_ids: list[str]) -> set[str]:
    """The cited sections' last steps ("article-2")."""
    return {s.rsplit("/", 1)[-1] for s in section_ids}


def test_unfiltered_the_question_finds_several_articles(client: TestClient) -> None:
    results = client.post("/search", json={"query": QUESTION}).json()["results"]
    assert len(_articles([r["citation"]["section_id"] for r in results])) > 1


def test_rest_post_filters_by_a_discovered_kind(client: TestClient) -> None:
    response = client.post("/search", json={"query": QUESTION, "filters": {"article": "2"}})
    assert response.status_code == 200, response.text
    assert _articles([r["citation"]["section_id"] for r in response.json()["results"]]) == {"article-2"}


def test_rest_get_filters_by_a_discovered_kind(client: TestClient) -> None:
    response = client.get("/search", params={"q": QUESTION, "article": "2"})
    assert response.status_code == 200, response.text
    assert _articles([r["citation"]["section_id"] for r in response.json()["results"]]) == {"article-2"}


def test_get_filters_lists_a_discovered_kind_with_its_values(client: TestClient) -> None:
    assert client.get("/filters").json()["article"] == ["1", "2", "3"]


def test_mcp_search_takes_a_kind_found_after_the_server_started(tmp_path: Path) -> None:
    served: dict[str, Loaded] = {}
    server = create_mcp_server(lambda: served["index"], base_url="http://127.0.0.1:8000")

    async def search_tool() -> Any:
        async with Client(server) as mcp:
            return {t.name: t for t in (await mcp.list_tools()).tools}["search"]

    async def search(arguments: dict[str, str]) -> Any:
        async with Client(server) as mcp:
            return await mcp.call_tool("search", arguments)

    assert "pillar" not in anyio.run(search_tool).input_schema["properties"]
    # A report with pillars is added and its build loads (as api.reload does) while the server runs.
    plan = _added(tmp_path, PLAN_MD, "plan-2030")
    served["index"] = ready_state(plan, plan.settings)

    pillar = anyio.run(search_tool).input_schema["properties"]["pillar"]
    assert pillar["description"] == "Only this pillar number."
    result = anyio.run(search, {"query": QUESTION, "pillar": "2"})
    assert not result.is_error, result.content[0].text
    assert _articles([r["section_id"] for r in result.structured_content["results"]]) == {"pillar-2"}


def test_unfiltered_the_question_finds_several_goals(plan_client: TestClient) -> None:
    results = plan_client.post("/search", json={"query": GOAL_QUESTION}).json()["results"]
    assert len(_articles([r["citation"]["section_id"] for r in results])) > 1


def test_rest_post_filters_by_a_built_in_kind_found_in_an_added_report(plan_client: TestClient) -> None:
    response = plan_client.post("/search", json={"query": GOAL_QUESTION, "filters": {"goal": "2"}})
    assert response.status_code == 200, response.text
    assert _articles([r["citation"]["section_id"] for r in response.json()["results"]]) == {"goal-2"}


def test_rest_get_filters_by_a_built_in_kind_found_in_an_added_report(plan_client: TestClient) -> None:
    response = plan_client.get("/search", params={"q": GOAL_QUESTION, "goal": "2"})
    assert response.status_code == 200, response.text
    assert _articles([r["citation"]["section_id"] for r in response.json()["results"]]) == {"goal-2"}


def test_mcp_search_filters_by_a_built_in_kind_found_in_an_added_report(plan: Retriever) -> None:
    server = create_mcp_server(lambda: ready_state(plan, plan.settings), base_url="http://127.0.0.1:8000")

    async def search(arguments: dict[str, str]) -> Any:
        async with Client(server) as mcp:
            return await mcp.call_tool("search", arguments)

    result = anyio.run(search, {"query": GOAL_QUESTION, "goal": "2"})
    assert not result.is_error, result.content[0].text
    assert _articles([r["section_id"] for r in result.structured_content["results"]]) == {"goal-2"}


def test_cli_ask_has_an_option_for_a_built_in_kind_found_in_an_added_report(
    plan: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `policyqa ask` opens this library's index (built with the hashing embedder) instead of the configured one.
    monkeypatch.setattr(Retriever, "open", lambda *args, **kwargs: plan)
    result = CliRunner().invoke(app, ["ask", GOAL_QUESTION, "--goal", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert _articles([r["section_id"] for r in json.loads(result.stdout)["results"]]) == {"goal-2"}


def test_get_filters_lists_only_the_kinds_a_loaded_report_has(plan_client: TestClient) -> None:
    discover_kind("Article")  # a kind known to the process (another report had it), not to this library
    assert plan_client.get("/filters").json() == {"document": ["plan-2025"], "goal": ["1", "2", "3"]}


def test_get_filters_drops_a_discovered_kind_once_its_report_is_removed(tmp_path: Path) -> None:
    settings = library(tmp_path)  # the INL fact sheet, and no numbered section
    path = tmp_path / "strategy.md"
    path.write_text(REPORT_MD, encoding="utf-8")
    embedder = HashingEmbedder()
    add_document(settings, path, doc_id="strategy-2030", embedder=embedder)
    remove_document(settings, "strategy-2030", embedder=embedder)
    # What the server's reload loads, with no restart.
    values = TestClient(create_app(retriever=Retriever.open(settings, embedder))).get("/filters").json()
    assert "article" not in values
    assert values["document"] == ["state-inl-mexico-fact-sheet-2005"]


@pytest.mark.e2e
def test_cli_ask_filters_by_a_discovered_kind(tmp_path: Path) -> None:
    # The real models: `policyqa ask` opens the index as staff run it.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    report = tmp_path / "strategy.md"
    report.write_text(REPORT_MD, encoding="utf-8")
    env = {
        **os.environ,
        "POLICYQA_CORPUS_DIR": str(corpus),
        "POLICYQA_DATA_DIR": str(tmp_path / "data"),
        "POLICYQA_EMBEDDING_CACHE_DIR": str(PROJECT_ROOT / ".cache" / "embeddings"),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cli", *args]
        return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)

    added = cli("add", str(report), "--id", "strategy-2030")
    assert added.returncode == 0, added.stderr
    asked = cli("ask", QUESTION, "--filter", "article=2", "--json")
    assert asked.returncode == 0, asked.stderr
    assert _articles([r["section_id"] for r in json.loads(asked.stdout)["results"]]) == {"article-2"}
