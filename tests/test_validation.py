"""Input the API refuses, and how it says so: invalid Unicode, non-boolean flags, huge values in errors.

From the fuzz run of issue 12: text that is not valid Unicode gets a 422
everywhere (never reaches the model), ``stream`` must be a JSON boolean,
and an error quotes only a prefix of an offending value.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app as cli
from core.errors import SHOWN_CHARS
from core.settings import Settings, get_settings

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
