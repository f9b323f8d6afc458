"""POST /documents and DELETE /documents/{id}: only with an admin token, all or nothing, one at a time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from core.settings import Settings
from corpus import load_catalog
from tests.fakes import HashingEmbedder
from tests.library_fixtures import REPORT_MD, library, state

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _client(settings: Settings) -> TestClient:
    client = TestClient(create_app(settings, embedder=HashingEmbedder()))
    client.__enter__()
    deadline = time.monotonic() + 60
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return client


@pytest.fixture
def admin(tmp_path: Path) -> tuple[Settings, TestClient]:
    settings = library(tmp_path).model_copy(update={"admin_token": SecretStr(TOKEN), "max_upload_bytes": 5000})
    client = _client(settings)
    yield settings, client
    client.__exit__(None, None, None)


def _upload(client: TestClient, name: str, content: bytes, headers: dict[str, str] = AUTH, **form: str):
    return client.post("/documents", files={"file": (name, content)}, data=form, headers=headers)


def test_no_token_no_routes(tmp_path: Path) -> None:
    settings = library(tmp_path)
    client = _client(settings)
    try:
        assert _upload(client, "s.md", REPORT_MD.encode()).status_code == 405  # only GET /documents exists
        assert client.delete("/documents/state-inl-mexico-fact-sheet-2005", headers=AUTH).status_code == 404
        assert "/documents" not in [
            p for p, ops in client.get("/openapi.json").json()["paths"].items() if "post" in ops
        ]
    finally:
        client.__exit__(None, None, None)


def test_wrong_token_is_401(admin: tuple[Settings, TestClient]) -> None:
    settings, client = admin
    before = state(settings)
    response = _upload(client, "s.md", REPORT_MD.encode(), headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.delete("/documents/state-inl-mexico-fact-sheet-2005").status_code == 401
    assert state(settings) == before


def test_oversized_is_413(admin: tuple[Settings, TestClient]) -> None:
    settings, client = admin
    before = state(settings)
    response = _upload(client, "big.md", REPORT_MD.encode() * 20)
    assert response.status_code == 413
    assert state(settings) == before


def test_broken_pdf_is_422(admin: tuple[Settings, TestClient]) -> None:
    settings, client = admin
    before = state(settings)
    response = _upload(client, "broken.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "broken.pdf: the PDF is damaged or truncated and cannot be opened"
    assert state(settings) == before


def test_duplicate_is_409(admin: tuple[Settings, TestClient]) -> None:
    settings, client = admin
    before = state(settings)
    response = _upload(client, "s.md", REPORT_MD.encode(), id="state-inl-mexico-fact-sheet-2005")
    assert response.status_code == 409
    assert state(settings) == before


def test_upload_is_served_at_once_and_delete_takes_it_out(admin: tuple[Settings, TestClient]) -> None:
    _, client = admin
    response = _upload(client, "strategy.md", REPORT_MD.encode(), id="strategy")
    assert response.status_code == 201
    assert response.json()["build_id"] == client.get("/readyz").json()["build_id"]
    assert "strategy" in [d["id"] for d in client.get("/documents").json()]
    assert client.delete("/documents/strategy", headers=AUTH).json() == {"removed": "strategy", "documents": 1}
    assert [d["id"] for d in client.get("/documents").json()] == ["state-inl-mexico-fact-sheet-2005"]


def test_two_concurrent_uploads_both_land(admin: tuple[Settings, TestClient]) -> None:
    settings, client = admin
    statuses: dict[str, int] = {}

    def upload(doc_id: str) -> None:
        statuses[doc_id] = _upload(
            client, f"{doc_id}.md", REPORT_MD.replace("2030", doc_id).encode(), id=doc_id
        ).status_code

    threads = [threading.Thread(target=upload, args=(i,)) for i in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == {"one": 201, "two": 201}
    assert sorted(d.id for d in load_catalog(settings.corpus_dir)) == ["one", "state-inl-mexico-fact-sheet-2005", "two"]
    assert sorted(d["id"] for d in client.get("/documents").json()) == [
        "one",
        "state-inl-mexico-fact-sheet-2005",
        "two",
    ]


def test_an_empty_library_serves_fills_and_empties_without_restart(tmp_path: Path) -> None:
    settings = library(tmp_path, bundled=()).model_copy(update={"admin_token": SecretStr(TOKEN)})
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        deadline = time.monotonic() + 30
        while "could not be loaded" not in client.get("/readyz").text:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "the corpus is empty; add a report with `policyqa add FILE`" in ready.json()["error"]["message"]
        assert client.get("/").status_code == 200
        assert client.get("/web/uploads").json()["enabled"] is True
        assert _upload(client, "s.md", REPORT_MD.encode(), id="strategy").status_code == 201
        hits = client.post("/search", json={"query": "certified treatment centre", "top_k": 1}).json()["results"]
        assert hits[0]["citation"]["document_id"] == "strategy"
        assert client.delete("/documents/strategy", headers=AUTH).json() == {"removed": "strategy", "documents": 0}
        assert client.get("/readyz").json()["error"]["message"] == (
            "no index: the library is empty; add a report with `policyqa add FILE`"
        )
