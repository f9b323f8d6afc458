"""Every page the server serves, ``/docs`` included, loads nothing from another host (intranets are offline)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

PA_26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"


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
