"""End to end with the real models: a rendered MEM PDF added to an empty library, asked, served, removed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest

from core.settings import PROJECT_ROOT
from tests.conftest import free_port
from tests.pdf_fixtures import render_report

pytestmark = pytest.mark.e2e

QUESTION = "What does priority action 2.6 say?"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=3600
    )


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _on_page(pdf: Path, page: int, text: str) -> bool:
    """Whether the first few words of ``text`` stand on ``page`` (1-based) of the PDF."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        page_text = _words(doc[page - 1].get_textpage().get_text_range())
    finally:
        doc.close()
    words = _words(re.sub(r"^#+ .*\n", "", text.strip())).split()
    return any(" ".join(words[i : i + 4]) in page_text for i in range(0, min(len(words) - 4, 40)))


def _wait(url: str, check, deadline: float) -> httpx.Response:
    while True:
        try:
            response = httpx.get(url, timeout=5)
            if check(response):
                return response
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} never got there"
        time.sleep(0.5)


def test_a_mem_pdf_added_to_an_empty_library(tmp_path: Path) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    pdf = render_report("mem-mexico-2024", tmp_path)
    env = {
        **os.environ,
        "POLICYQA_CORPUS_DIR": str(corpus),
        "POLICYQA_DATA_DIR": str(data),
        "POLICYQA_EMBEDDING_CACHE_DIR": str(PROJECT_ROOT / ".cache" / "embeddings"),
        "POLICYQA_RELOAD_INTERVAL": "1",
        "HF_HUB_OFFLINE": "1",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--log-level", "warning"], cwd=PROJECT_ROOT, env=env
    )
    try:
        # An empty library: the server runs and says what to do.
        empty = _wait(f"{url}/readyz", lambda r: "corpus is empty" in r.text, time.monotonic() + 300)
        assert empty.status_code == 503

        added = _cli(env, "add", str(pdf), "--id", "mem-pdf")
        assert added.returncode == 0, added.stderr
        assert "added mem-pdf (pdf, scheme mem)" in added.stdout

        asked = _cli(env, "ask", QUESTION, "--json", "-k", "3")
        assert asked.returncode == 0, asked.stderr
        top = json.loads(asked.stdout)["results"][0]
        assert top["section_id"].endswith("/priority_action-2.6")
        first, last = top["pages"]
        assert 1 <= first <= last
        assert _on_page(pdf, first, top["text"])

        # The running server answers from it without a restart, with the same pages.
        _wait(f"{url}/readyz", lambda r: r.status_code == 200, time.monotonic() + 300)
        result = httpx.post(f"{url}/search", json={"query": QUESTION, "top_k": 3}, timeout=60).json()["results"][0]
        assert result["citation"]["section_id"] == top["section_id"]
        assert result["citation"]["pages"] == [first, last]
        original = httpx.get(f"{url}/documents/mem-pdf/file", timeout=30)
        assert original.headers["content-type"] == "application/pdf"
        assert original.content == pdf.read_bytes()

        removed = _cli(env, "remove", "mem-pdf")
        assert removed.returncode == 0, removed.stderr
        assert _cli(env, "documents", "--json").stdout.strip() == "[]"
        _wait(f"{url}/readyz", lambda r: "library is empty" in r.text, time.monotonic() + 60)
    finally:
        server.terminate()
        server.wait(timeout=30)
