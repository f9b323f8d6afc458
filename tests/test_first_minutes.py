"""The first minutes on a fresh data dir (issue 19): the server listens at once and says how the build goes.

``policyqa serve`` used to build for minutes before it listened: the page and
``/readyz`` refused connections with no word of progress. Now ``/readyz``
answers within 5 s, 503 ``{"status": "building", "progress": ...}`` (step N
of M) while the build runs in a child process, the page says "Building the
index (step N of M)…", keeps its Search button off (saying why beside it)
and loads by itself, and the server turns ready when the build ends. The embedding cache of earlier builds is used (as
``real_settings`` does), so the build is the models' load, the ONNX export
and the writing: a minute or two here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.settings import PROJECT_ROOT
from tests.conftest import free_port
from tests.test_web import CHROMIUM, CHROMIUM_ARGS, OUT

pytestmark = pytest.mark.e2e

BUILD_TIMEOUT = 900.0


def test_a_fresh_data_dir_answers_readyz_at_once_with_progress_and_turns_ready(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(tmp_path / "data"),
        "POLICYQA_EMBEDDING_CACHE_DIR": str(PROJECT_ROOT / ".cache" / "embeddings"),
    }
    t0 = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=PROJECT_ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        first = None
        while first is None:
            assert process.poll() is None, "policyqa serve exited"
            try:
                first = httpx.get(f"{url}/readyz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.05)
        answered_after = time.monotonic() - t0
        # 5 s on an idle machine (importing the app takes 1.6 s of CPU, measured); on shared cores the
        # imports wait their turn, so the bound grows with the load per core (noted, never below 5 s).
        contention = max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
        print(f"/readyz answered {answered_after:.2f} s after the start (load per core {contention:.1f})")
        assert answered_after < 5.0 * contention
        assert first.status_code == 503
        # The build starts behind the listening server: building, or still loading for an instant.
        seen: list[dict] = []
        while not seen:
            body = httpx.get(f"{url}/readyz", timeout=2).json()
            if body.get("status") == "building":
                seen.append(body)
            time.sleep(0.2)
        progress = seen[0]["progress"]
        assert 1 <= progress["step"] <= progress["steps"] == 9
        search = httpx.post(f"{url}/search", json={"query": "extradition"}, timeout=5)
        assert search.status_code == 503 and search.json()["error"]["type"] == "index_unavailable"

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 700})
            searches: list[str] = []
            page.on("request", lambda r: searches.append(r.url) if "/search" in r.url else None)
            page.goto(url)
            page.wait_for_selector("#notice p")
            notice = page.inner_text("#notice")
            OUT.mkdir(exist_ok=True)
            page.screenshot(path=str(OUT / "building.png"))
            assert notice.startswith("Building the index (step "), notice
            assert " of 9)…" in notice
            # Search is off meanwhile, and says why beside the button: it would only get a 503.
            button = page.get_by_role("button", name="Search", exact=True)
            assert button.is_disabled()
            assert page.inner_text("#search-wait") == "Search opens when the index is ready."
            page.fill("#q", "extradition")
            page.press("#q", "Enter")
            page.wait_for_timeout(500)
            assert searches == [] and page.inner_text("#error") == ""
            # The page loads by itself when the build ends: no reload by the test.
            page.wait_for_selector("body[data-ready='1']", timeout=BUILD_TIMEOUT * 1000)
            assert page.inner_text("#notice") == ""
            assert button.is_enabled() and page.locator("#search-wait").is_hidden()
            assert page.locator("#document option").count() == 6  # "All reports" and the five reports
            browser.close()
        ready = httpx.get(f"{url}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        print(f"ready {time.monotonic() - t0:.0f} s after the start")
    finally:
        process.terminate()
        process.wait(timeout=30)
