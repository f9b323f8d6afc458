"""MCP end to end with the official ``mcp`` client: ``policyqa mcp`` over stdio, and ``/mcp`` of a live server.

Both transports run the same checks (``_exercise``): what the server lists,
a search whose first result is the section the question names, a fetch whose
text is the corpus slice it cites, and a bad filter answered as a tool error
with the REST message (valid values listed).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import jsonschema
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from core.settings import PROJECT_ROOT, Settings
from corpus import read_text
from qa.retrieve import Retriever
from tests.conftest import policyqa_command

pytestmark = pytest.mark.e2e

PA_26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"
TOOLS = {"search", "fetch", "list_documents", "outline"}


@asynccontextmanager
async def _stdio(settings: Settings) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=policyqa_command(),
        args=["mcp"],
        env={**os.environ, "POLICYQA_DATA_DIR": str(settings.data_dir)},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@asynccontextmanager
async def _http(url: str) -> AsyncIterator[ClientSession]:
    async with streamable_http_client(f"{url}/mcp") as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def _exercise(session: ClientSession, texts: dict[str, str], valid_documents: list[str]) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 80, tool.name  # written for a model to read
        assert tool.output_schema is not None, tool.name
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
    query_schema = tools["search"].input_schema["properties"]["query"]
    assert (query_schema["minLength"], query_schema["maxLength"]) == (1, 2000)

    templates = (await session.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["policyqa://documents/{document_id}/outline"]
    prompts = (await session.list_prompts()).prompts
    assert [p.name for p in prompts] == ["answer-with-citations"]
    prompt = await session.get_prompt("answer-with-citations", {"question": "What does PA 2.6 say?"})
    assert "What does PA 2.6 say?" in prompt.messages[0].content.text

    # Over stdio this first call waits for the index the server loads in the background.
    result = await session.call_tool("search", {"query": "What does priority action 2.6 say?"})
    assert not result.is_error
    jsonschema.validate(result.structured_content, tools["search"].output_schema)
    first = result.structured_content["results"][0]
    assert first["section_id"] == PA_26
    assert first["title"] == "MEM Mexico 2024 — Institutional Strengthening › Objective 2 › Priority Action 2.6"
    assert first["url"] == f"http://127.0.0.1:8000/read/{PA_26}"  # the reading view, under POLICYQA_PUBLIC_URL
    # The text rendering numbers the sources with their labels, for models that read only text.
    assert f"[1] {first['label']}" in result.content[0].text

    fetched = await session.call_tool("fetch", {"id": first["section_id"]})
    assert not fetched.is_error
    jsonschema.validate(fetched.structured_content, tools["fetch"].output_schema)
    section = fetched.structured_content
    assert section["id"] == PA_26 and section["kind"] == "section"
    assert section["text"] == texts["mem-mexico-2024"][section["char_start"] : section["char_end"]]

    passage = (await session.call_tool("fetch", {"id": first["id"]})).structured_content
    assert passage["kind"] == "passage" and passage["section_id"] == PA_26
    assert passage["text"] == texts["mem-mexico-2024"][passage["char_start"] : passage["char_end"]]

    bad = await session.call_tool("search", {"query": "budget", "document": "no-such-report"})
    assert bad.is_error
    # The REST API's message for the same input, valid values listed.
    assert f"document 'no-such-report' does not exist; valid: {', '.join(valid_documents)}" in bad.content[0].text

    unknown = await session.call_tool("fetch", {"id": "no/such/section"})
    assert unknown.is_error and "no section or passage 'no/such/section'" in unknown.content[0].text

    empty = await session.call_tool("search", {"query": ""})
    assert empty.is_error  # the input schema's minLength, enforced by the SDK

    outline = await session.read_resource("policyqa://documents/mem-mexico-2024/outline")
    tree = json.loads(outline.contents[0].text)
    areas = [c["title"] for c in tree["children"] if c["kind"] == "thematic_area"]
    assert areas[0] == "Institutional Strengthening" and len(areas) == 5  # the MEM's five thematic areas

    documents = (await session.call_tool("list_documents", {})).structured_content["documents"]
    assert sorted(d["id"] for d in documents) == valid_documents


@pytest.fixture(scope="module")
def texts(real_retriever: Retriever) -> dict[str, str]:
    settings = real_retriever.settings
    return {d.id: read_text(d, settings.corpus_dir) for d in real_retriever.index.documents.values()}


@pytest.fixture(scope="module")
def valid_documents(real_retriever: Retriever) -> list[str]:
    return sorted(real_retriever.index.documents)


def test_mcp_over_stdio(real_settings: Settings, texts: dict[str, str], valid_documents: list[str]) -> None:
    async def main() -> None:
        async with _stdio(real_settings) as session:
            await _exercise(session, texts, valid_documents)

    anyio.run(main)


def test_mcp_over_streamable_http(live_server: str, texts: dict[str, str], valid_documents: list[str]) -> None:
    async def main() -> None:
        async with _http(live_server) as session:
            await _exercise(session, texts, valid_documents)

    anyio.run(main)


def test_rest_still_answers_beside_mcp(live_server: str) -> None:
    # One process serves both: the REST search and the MCP endpoint share the loaded index.
    response = httpx.get(f"{live_server}/search", params={"q": "What does priority action 2.6 say?", "top_k": 1})
    assert response.json()["results"][0]["citation"]["section_id"] == PA_26


# -- the MCP Inspector (the protocol's reference client), CLI mode --------------------

INSPECTOR = PROJECT_ROOT / ".tools" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"


def _inspector(real_settings: Settings, tmp_path: Path, *args: str) -> dict[str, Any]:
    if not INSPECTOR.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{INSPECTOR} is missing: `make test` installs it (make tools)")
        pytest.skip("the MCP Inspector is not installed: run `make tools`")
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(real_settings.data_dir),
        "MCP_CATALOG_PATH": str(tmp_path / "catalog.json"),  # the Inspector's own state, not ~/
    }
    # The Inspector passes the server only the variables it is given with -e (not its own environment).
    server_env = ["-e", f"POLICYQA_DATA_DIR={real_settings.data_dir}"]
    command = [str(INSPECTOR), "--cli", *server_env, policyqa_command(), "mcp", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_the_mcp_inspector_lists_the_tools(real_settings: Settings, tmp_path: Path) -> None:
    listed = _inspector(real_settings, tmp_path, "--method", "tools/list")
    assert {t["name"] for t in listed["tools"]} == TOOLS
    assert all("outputSchema" in t for t in listed["tools"])


def test_the_mcp_inspector_calls_search(real_settings: Settings, tmp_path: Path) -> None:
    called = _inspector(
        real_settings,
        tmp_path,
        *("--method", "tools/call", "--tool-name", "search"),
        *("--tool-arg", "query=What does priority action 2.6 say?", "--tool-arg", "top_k=3"),
    )
    assert called["structuredContent"]["results"][0]["section_id"] == PA_26
