"""End to end on the staff page, real models and a real Chromium: a report added through "Add a report".

A server over an empty library, with an admin token, on loopback. The page's
form uploads a rendered MEM PDF; then the report filter lists it, a search
cites it with its pages, the reading view's outline shows it, and "Open the
original, p. N" points at the PDF as uploaded, at the cited page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from core.settings import PROJECT_ROOT
from tests.conftest import free_port
from tests.pdf_fixtures import render_report
from tests.test_web import CHROMIUM, CHROMIUM_ARGS, OUT

pytestmark = pytest.mark.e2e

TOKEN = "staff-token-for-the-test"
QUESTION = "What does priority action 2.6 say?"
ADD_TIMEOUT_S = 1800  # extraction and both models' embedding of one report, on shared cores

# While the library is empty the page polls /readyz and Chromium logs each 503; nothing else may show.
_EXPECTED = re.compile(r"Failed to load resource: the server responded with a status of 503\b")


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[str]:
    """``policyqa serve`` over an empty corpus directory, uploads on; yields its base URL."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    env = {
        **os.environ,
        "POLICYQA_CORPUS_DIR": str(corpus),
        "POLICYQA_DATA_DIR": str(tmp_path / "data"),
        "POLICYQA_EMBEDDING_CACHE_DIR": str(PROJECT_ROOT / ".cache" / "embeddings"),
        "POLICYQA_ADMIN_TOKEN": TOKEN,
        "HF_HUB_OFFLINE": "1",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "cli", "serve", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, "policyqa serve exited"
            try:
                if "corpus is empty" in httpx.get(f"{url}/readyz", timeout=2).text:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never said its corpus is empty"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _search(page: Page, question: str) -> None:
    before = page.evaluate("Number(document.body.dataset.searched || 0)")
    page.fill("#q", question)
    page.press("#q", "Enter")
    page.wait_for_function(f"() => Number(document.body.dataset.searched || 0) > {before}")


def test_a_pdf_added_through_the_page_is_filtered_outlined_cited_and_opened(empty_server: str, tmp_path: Path) -> None:
    pdf = render_report("mem-mexico-2024", tmp_path)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _EXPECTED.match(message.text):
            problems.append(message.text)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=empty_server)
        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.goto("/")

        # The staff path: the page's own form, the admin token typed in.
        page.locator("#add-report summary").click()
        page.set_input_files("#add-file", str(pdf))
        page.fill("#add-id", "mem-pdf")
        page.fill("#add-token", TOKEN)
        page.locator("#add-form button[type='submit']").click()
        page.wait_for_function(
            "() => /^(Added|Not added)/.test(document.getElementById('add-status').textContent)",
            timeout=ADD_TIMEOUT_S * 1000,
        )
        assert page.inner_text("#add-status").startswith("Added mem-pdf (mem): ")

        # The page was waiting for a ready index; it carries on by itself now that there is one.
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        short_title = httpx.get(f"{empty_server}/documents").json()[0]["short_title"]
        assert page.locator("#document option").all_inner_texts() == ["All reports", short_title]

        page.select_option("#document", "mem-pdf")
        _search(page, QUESTION)
        api = httpx.get(f"{empty_server}/search", params={"q": QUESTION, "document": "mem-pdf"}, timeout=60).json()
        citation = api["results"][0]["citation"]
        assert citation["section_id"].endswith("/priority_action-2.6")
        first, last = citation["pages"]
        pages = f"p. {first}" if first == last else f"pp. {first}-{last}"
        top = page.locator("ol.results > li").first.locator("h3 a")
        assert top.inner_text().endswith(f"Priority Action 2.6, {pages}")

        top.click()
        page.wait_for_selector("body[data-read='1']")
        assert page.inner_text("#outline-title") == f"Outline: {short_title}"
        current = page.locator("#outline a[aria-current='page']")
        assert current.get_attribute("href") == f"/read/{citation['section_id']}"
        assert current.inner_text() == "Priority Action 2.6"
        original = page.locator("#original")
        assert original.inner_text() == f"Open the original, p. {first}"
        href = original.get_attribute("href")
        assert href == f"/documents/mem-pdf/file#page={first}"
        OUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUT / "added-report-reading-1280.png"))

        # The link's target, fetched by the browser itself: the PDF as uploaded.
        served = page.request.get(href)
        assert served.headers["content-type"] == "application/pdf"
        assert served.body() == pdf.read_bytes()
        browser.close()
    assert problems == [], f"the browser reported: {problems}"
