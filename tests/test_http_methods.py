"""HEAD and OPTIONS on every route: load-balancer probes and "what does this path accept"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

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
