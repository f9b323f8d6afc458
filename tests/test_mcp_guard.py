"""``/mcp`` over HTTP: only this server's own address and origins may call it; refusals are JSON-RPC errors.

Finding 5 of issue 21: ``initialize`` and ``tools/call`` with ``Origin:
http://evil.example`` or ``Host: evil.example`` got 200 and search results.
Finding 8: an oversized chunked body got a plain-text 413, and an empty query
pydantic's text with a link. The e2e tests run against ``policyqa serve``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from mcp.types import INVALID_REQUEST

from api.app import MAX_BODY_BYTES, create_app
from api.deps import ready_state
from api.mcp import create_mcp_server
from qa.retrieve import Retriever

HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}
SEARCH = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "search", "arguments": {"query": "What does priority action 2.6 say?", "top_k": 1}},
}


def _refused(response: httpx.Response, status: int) -> str:
    """The JSON-RPC error message of a refusal, after checking its status and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] is None and body["error"]["code"] == INVALID_REQUEST
    return str(body["error"]["message"])


# -- against a live server --------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("request_body", [INITIALIZE, SEARCH], ids=["initialize", "tools/call"])
def test_a_foreign_origin_is_refused_with_a_jsonrpc_403(live_server: str, request_body: dict[str, Any]) -> None:
    response = httpx.post(f"{live_server}/mcp", json=request_body, headers={**HEADERS, "origin": "http://evil.example"})
    message = _refused(response, 403)
    assert message == (
        "origin 'http://evil.example' may not call MCP on this server; "
        "an operator may allow it in POLICYQA_CORS_ORIGINS"
    )


@pytest.mark.e2e
@pytest.mark.parametrize("request_body", [INITIALIZE, SEARCH], ids=["initialize", "tools/call"])
def test_a_foreign_host_is_refused_with_a_jsonrpc_403(live_server: str, request_body: dict[str, Any]) -> None:
    # DNS rebinding: evil.example resolves to the server's address, and the browser sends its name as Host.
    response = httpx.post(f"{live_server}/mcp", json=request_body, headers={**HEADERS, "host": "evil.example"})
    assert _refused(response, 403).startswith("Host 'evil.example' is not this server's address")


@pytest.mark.e2e
def test_the_servers_own_origin_may_call_the_tools(live_server: str) -> None:
    # What the page served by this server sends; a client that is not a browser sends no Origin.
    port = live_server.rsplit(":", 1)[1]
    for origin in (live_server, f"http://localhost:{port}", None):
        headers = HEADERS if origin is None else {**HEADERS, "origin": origin}
        response = httpx.post(f"{live_server}/mcp", json=SEARCH, headers=headers, timeout=60)
        assert response.status_code == 200, (origin, response.text)
        result = response.json()["result"]
        assert result["isError"] is False
        assert result["structuredContent"]["results"][0]["section_id"].endswith("priority_action-2.6")


@pytest.mark.e2e
def test_a_chunked_body_over_the_limit_gets_a_jsonrpc_413(live_server: str) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent with Transfer-Encoding: chunked
        yield b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "'
        for _ in range(MAX_BODY_BYTES // 4096 + 1):
            yield b"x" * 4096
        yield b'"}}'

    response = httpx.post(f"{live_server}/mcp", content=chunks(), headers=HEADERS)
    assert _refused(response, 413) == f"request body is over {MAX_BODY_BYTES} bytes; send a shorter request"


@pytest.mark.e2e
def test_a_declared_body_over_the_limit_gets_the_same_jsonrpc_413(live_server: str) -> None:
    response = httpx.post(f"{live_server}/mcp", content=b"x" * (MAX_BODY_BYTES + 1), headers=HEADERS)
    assert _refused(response, 413) == f"request body is over {MAX_BODY_BYTES} bytes; send a shorter request"


# -- the configured origins, in process ---------------------------------------------------


def _client(retriever: Retriever, **settings: Any) -> TestClient:
    app = create_app(retriever.settings.model_copy(update=settings), retriever)
    return TestClient(app)


def test_the_public_urls_host_and_origin_may_call_the_tools(fake_retriever: Retriever) -> None:
    # Behind a reverse proxy the Host is the public name, and the page's origin its URL.
    with _client(fake_retriever, public_url="https://policyqa.intranet.example/") as client:
        headers = {**HEADERS, "host": "policyqa.intranet.example", "origin": "https://policyqa.intranet.example"}
        assert client.post("/mcp", json=INITIALIZE, headers=headers).status_code == 200
        elsewhere = {**headers, "origin": "https://policyqa.intranet.example:8443"}
        assert client.post("/mcp", json=INITIALIZE, headers=elsewhere).status_code == 403


def test_a_cors_origin_may_call_the_tools_and_an_unlisted_one_may_not(fake_retriever: Retriever) -> None:
    with _client(fake_retriever, cors_origins=["https://chat.example.org"]) as client:
        listed = client.post("/mcp", json=INITIALIZE, headers={**HEADERS, "origin": "https://chat.example.org"})
        unlisted = client.post("/mcp", json=INITIALIZE, headers={**HEADERS, "origin": "https://chat.example.com"})
    assert listed.status_code == 200
    _refused(unlisted, 403)


@pytest.mark.parametrize("origin", ["null", "file://", "http://testserver.evil.example", "http://testserver:8080"])
def test_near_misses_of_the_own_origin_are_refused(client: TestClient, origin: str) -> None:
    _refused(client.post("/mcp", json=INITIALIZE, headers={**HEADERS, "origin": origin}), 403)


# -- argument errors read like the REST API's ----------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": ""}, "query: String should have at least 1 character"),
        ({"query": "budget", "top_k": 0}, "top_k: Input should be greater than or equal to 1"),
        ({}, "query: Field required"),
    ],
)
def test_a_tool_argument_error_is_one_plain_line(
    fake_retriever: Retriever, arguments: dict[str, Any], message: str
) -> None:
    loaded = ready_state(fake_retriever, fake_retriever.settings)
    server = create_mcp_server(lambda: loaded, base_url="http://127.0.0.1:8000")

    async def call() -> Any:
        async with Client(server) as session:
            return await session.call_tool("search", arguments)

    result = anyio.run(call)
    assert result.is_error
    assert result.content[0].text == f"Error executing tool search: {message}"


def test_a_body_that_is_not_json_gets_a_jsonrpc_400(client: TestClient) -> None:
    headers = {**HEADERS, "content-type": "text/plain"}
    message = _refused(client.post("/mcp", json=INITIALIZE, headers=headers), 400)
    assert message == "Content-Type 'text/plain' is not JSON; send JSON-RPC as application/json"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_mcp_answers_post_only(client: TestClient, method: str) -> None:
    # Stateless JSON: no event stream to hold open (a GET used to, indefinitely), no session to delete.
    response = client.request(method, "/mcp", headers=HEADERS)
    assert response.status_code == 405 and response.json()["error"]["type"] == "method_not_allowed"
