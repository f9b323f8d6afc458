"""Security headers (issue 21, finding 9): a strict policy on the pages, no sniffing anywhere.

The browser tests (``tests/test_web.py``) run the pages under the policy and
fail on any violation; these check the headers themselves on every kind of
response, in process.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

PA_26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"
PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'"


@pytest.mark.parametrize(("path", "status"), [("/", 200), (f"/read/{PA_26}", 200), (f"/read/{PA_26}9", 404)])
def test_a_page_sends_the_strict_policy_nosniff_and_a_same_origin_referrer(
    client: TestClient, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_the_api_docs_allow_data_images_and_nothing_else_more(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.headers["content-security-policy"] == f"{PAGE_POLICY}; img-src 'self' data:"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Swagger UI starts from a file: no inline script for the policy to refuse.
    assert "<script>" not in response.text and '<script src="/static/swagger-init.js"></script>' in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/search?q=budget"),
        ("GET", "/sections/no-such-section"),
        ("GET", "/healthz"),
        ("HEAD", "/readyz"),
        ("GET", "/openapi.json"),
        ("GET", "/static/app.js"),
        ("GET", "/docs-assets/swagger-ui.css"),
        ("POST", "/mcp"),
    ],
)
def test_every_other_response_sends_nosniff_and_no_page_policy(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers
    assert "referrer-policy" not in response.headers


def test_an_error_before_routing_sends_nosniff_too(client: TestClient) -> None:
    response = client.post("/search", content=b"x" * 70_000, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"
