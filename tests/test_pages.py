"""Pages: an added PDF's passages cite their pages (REST, chat, MCP text) and its original is served."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from api.app import create_app
from core.settings import Settings
from index.add import add_document
from qa.retrieve import Retriever
from tests.fakes import HashingEmbedder
from tests.library_fixtures import library
from tests.pdf_fixtures import _fonts

PAGE_ONE = [
    "Article 1. Purpose",
    "The ministries reduce the harms of drug use with treatment offered in every province,",
    "and they report each year on the people reached and the services opened.",
]
PAGE_TWO = [
    "Article 2. Seizures",
    "Customs officers record every seizure of precursor chemicals at the northern border crossings,",
    "with the quantity, the substance and the route it came by, in one national register.",
]


def two_page_pdf(path: Path) -> Path:
    canvas = Canvas(str(path), pagesize=A4, invariant=1)
    for heading, *lines in (PAGE_ONE, PAGE_TWO):
        canvas.setFont(_fonts(), 18)  # a heading: the generic scheme starts a section there
        canvas.drawString(60, 730, heading)
        canvas.setFont(_fonts(), 10)
        for i, line in enumerate(lines):
            canvas.drawString(60, 700 - 14 * i, line)
        canvas.showPage()
    canvas.save()
    return path


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, HashingEmbedder]:
    root = tmp_path_factory.mktemp("pages")
    settings = library(root)
    embedder = HashingEmbedder()
    add_document(settings, two_page_pdf(root / "law.pdf"), doc_id="law", embedder=embedder)
    return settings, embedder


@pytest.fixture(scope="module")
def client(added: tuple[Settings, HashingEmbedder]) -> TestClient:
    settings, embedder = added
    return TestClient(create_app(retriever=Retriever.open(settings, embedder)))


def _top(client: TestClient, query: str) -> dict:
    body = {"query": query, "top_k": 1, "filters": {"document": "law"}}
    return client.post("/search", json=body).json()["results"][0]


def test_a_passage_cites_its_page(client: TestClient) -> None:
    hit = _top(client, "seizure of precursor chemicals at the northern border")
    assert "precursor chemicals" in hit["text"]
    assert hit["citation"]["pages"] == [2, 2]


def test_a_text_report_has_no_pages(client: TestClient) -> None:
    body = {"query": "counternarcotics", "top_k": 1, "filters": {"document": "state-inl-mexico-fact-sheet-2005"}}
    assert client.post("/search", json=body).json()["results"][0]["citation"]["pages"] is None


def test_the_original_is_served_with_its_content_type(
    client: TestClient, added: tuple[Settings, HashingEmbedder]
) -> None:
    response = client.get("/documents/law/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content == (added[0].corpus_dir / "originals" / "law.pdf").read_bytes()


def test_a_bundled_reports_file_is_its_text(client: TestClient) -> None:
    response = client.get("/documents/state-inl-mexico-fact-sheet-2005/file")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_file_of_an_unknown_document(client: TestClient) -> None:
    assert client.get("/documents/nope/file").status_code == 404


def test_documents_list_pages_and_file(client: TestClient) -> None:
    law = next(d for d in client.get("/documents").json() if d["id"] == "law")
    assert (law["pages"], law["file_url"]) == (2, "/documents/law/file")


def test_chat_sources_name_the_page(client: TestClient) -> None:
    body = {"model": "policyqa", "messages": [{"role": "user", "content": "seizure of precursor chemicals register"}]}
    reply = client.post("/v1/chat/completions", json=body).json()
    law = [c for c in reply["citations"] if c["document_id"] == "law"]
    assert law and all(c["pages"] == [2, 2] for c in law)
    assert ", p. 2 (law/" in reply["choices"][0]["message"]["content"]


def test_a_section_knows_its_pages(client: TestClient) -> None:
    hit = _top(client, "seizure of precursor chemicals at the northern border")
    assert client.get(f"/sections/{hit['citation']['section_id']}").json()["pages"] == [2, 2]


def test_cli_ask_json_has_pages(added: tuple[Settings, HashingEmbedder]) -> None:
    from cli.commands import hit_json

    settings, embedder = added
    retriever = Retriever.open(settings, embedder)
    hit = retriever.search("seizure of precursor chemicals register", k=1, filters=None)[0]
    document = retriever.index.documents[hit.passage.document_id]
    assert hit_json(hit, document.pages_of(hit.passage.start, hit.passage.end))["pages"] == [2, 2]


def test_uploads_off_by_default(client: TestClient) -> None:
    assert client.get("/web/uploads").json() == {"enabled": False, "max_bytes": 50_000_000}
