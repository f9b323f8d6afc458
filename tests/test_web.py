"""The staff page in a real headless Chromium (Debian's package, driven by Playwright) against a live server.

Every test fails on a request to any host but the server's (the page must work
offline on an intranet), and on any Content-Security-Policy violation,
uncaught script error or console error (``_watch``): the pages run under the
server's strict policy. Screenshots of the main views land in
``test-output/``; the time from pressing Enter to drawn results is printed and
written to ``test-output/web-timings.json``, never asserted (timings are noisy).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, sync_playwright

from core.settings import PROJECT_ROOT
from corpus import read_text
from qa.display import display_passage
from qa.retrieve import Retriever

pytestmark = pytest.mark.e2e


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network: without the background-networking ones Chromium keeps dialling Google.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUT = PROJECT_ROOT / "test-output"
AXE = Path(__file__).parent / "assets" / "axe.min.js"
PA_26 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2/priority_action-2.6"
OBJECTIVE_2 = "mem-mexico-2024/thematic_area-institutional-strengthening/objective-2"
REHAB = "Does Mexico certify people who work in rehabilitation services?"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    OUT.mkdir(exist_ok=True)
    (OUT / "web-timings.json").write_text(json.dumps(TIMINGS, indent=2))


# What the page's designed error paths log: Chromium reports every 4xx answer (an unknown section's 404, a
# bad filter's 422) as "Failed to load resource"; the tests that cause one check what the page shows.
_EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d\b")

# Runs in every document before the page's own script; DevTools evaluation is exempt from the policy.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${where})`);
});
"""


def _watch(context: BrowserContext, problems: list[str]) -> list[str]:
    """Record the context's policy violations, uncaught errors and unexpected console errors in ``problems``."""
    context.add_init_script(_REPORT_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _EXPECTED_CONSOLE.match(message.text):
            problems.append(message.text)

    def on_page(page: Page) -> None:
        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))

    context.on("page", on_page)
    return problems


@pytest.fixture
def problems() -> list[str]:
    """The console problems of the test's page (``page`` fails the test on any left at its end)."""
    return []


@pytest.fixture
def page(browser: Browser, live_server: str, problems: list[str]) -> Iterator[Page]:
    """A fresh page at 1280 px; the test fails if the page asks any other host for anything,
    or if a policy violation, an uncaught error or a console error showed."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    _watch(context, problems)
    outside: list[str] = []
    server_host = urlsplit(live_server).netloc

    def guard(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc != server_host and not url.startswith(("data:", "blob:")):
            outside.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    page = context.new_page()
    yield page
    context.close()
    assert outside == [], f"the page requested other hosts: {outside}"
    assert problems == [], f"the browser reported: {problems}"


@pytest.fixture(scope="module")
def documents(live_server: str) -> dict[str, dict]:
    return {d["id"]: d for d in httpx.get(f"{live_server}/documents").json()}


def _ready(page: Page, path: str = "/") -> None:
    page.goto(path)
    page.wait_for_selector("body[data-ready='1']")


# wait_for_function gets arrow functions throughout: Playwright evaluates a bare expression with eval()
# inside the page, which the policy refuses ('unsafe-eval'); a function is sent whole over DevTools.


def _search(page: Page, question: str) -> None:
    """Type the question and press Enter, as a person does; wait until the results are drawn."""
    before = page.evaluate("Number(document.body.dataset.searched || 0)")
    page.fill("#q", question)
    page.press("#q", "Enter")
    page.wait_for_function(f"() => Number(document.body.dataset.searched || 0) > {before}")


def _axe(page: Page) -> list[dict]:
    # Evaluated, not added as a <script> element: the policy refuses inline scripts, not DevTools.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_the_rehabilitation_question_shows_the_answer_and_highlights_it(page: Page) -> None:
    _ready(page)
    _search(page, REHAB)
    TIMINGS["search_rehabilitation_ms"] = page.evaluate("window.policyqaLastSearchMs")
    answer = page.locator(".answer blockquote")
    assert "does not certify personnel who work in rehabilitation" in answer.inner_text()
    first = page.locator("ol.results > li").first
    assert (
        first.locator("h3")
        .inner_text()
        .endswith("Measures of Prevention, Treatment and Recovery Support › Objective 4")
    )
    # The answer came from the first passage, so its sentence is marked there.
    assert "does not certify personnel who work in rehabilitation" in first.locator("mark").inner_text()
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "search-1280.png"), full_page=False)
    print(f"time to results: {TIMINGS['search_rehabilitation_ms']:.0f} ms")


def test_copy_citation_puts_a_memo_reference_on_the_clipboard(page: Page, documents: dict[str, dict]) -> None:
    _ready(page)
    _search(page, "What does priority action 2.6 say?")
    TIMINGS["search_pa26_ms"] = page.evaluate("window.policyqaLastSearchMs")
    page.locator("ol.results > li").first.get_by_role("button", name="Copy citation").click()
    page.wait_for_function("() => document.querySelector('ol.results button.copy').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    mem = documents["mem-mexico-2024"]
    expected = (
        f"{mem['title']} ({mem['publisher']}, {mem['date'][:4]}), "
        f"Institutional Strengthening › Objective 2 › Priority Action 2.6. Section id: {PA_26}."
    )
    assert copied == expected


def test_a_result_opens_the_cited_span_highlighted_in_its_section(page: Page, real_retriever: Retriever) -> None:
    _ready(page)
    _search(page, REHAB)
    first = page.locator("ol.results > li").first
    href = first.locator("h3 a").get_attribute("href")
    first.locator("h3 a").click()
    page.wait_for_selector("body[data-read='1']")
    assert page.url.endswith(href)
    assert page.locator("#section-title").inner_text() == (
        "MEM Mexico 2024 — Measures of Prevention, Treatment and Recovery Support › Objective 4"
    )
    cited = page.locator("#cited")
    in_view = "m => { const r = m.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }"
    assert cited.is_visible() and cited.evaluate(in_view)
    # The marked text is the result's verbatim passage: the corpus file at the span in the link.
    start, end = (int(x) for x in re.findall(r"(?:start|end)=(\d+)", page.url))
    document = real_retriever.index.documents["mem-mexico-2024"]
    verbatim = read_text(document, real_retriever.settings.corpus_dir)[start:end]
    # Shown without the files' markdown markers ("**", "*", "#### ") and page breaks, word for word otherwise.
    assert cited.text_content().split() == display_passage(verbatim).split()
    assert "*" not in cited.text_content()
    crumbs = page.locator("#crumbs li").all_inner_texts()
    assert crumbs == ["Search", "Measures of Prevention, Treatment and Recovery Support", "Objective 4"]
    page.screenshot(path=str(OUT / "reading-1280.png"))


def test_an_unknown_section_says_so_and_leads_back_to_search(page: Page) -> None:
    response = page.goto(f"/read/{PA_26}9")
    assert response is not None and response.status == 404
    page.wait_for_selector("body[data-read='1']")
    assert page.locator("#section-title").inner_text() == "Section not available"
    assert "no section" in page.locator("#error").inner_text()
    # Nothing to cite and no outline to browse; the one way on is back to the search.
    assert page.locator("#crumbs li").all_inner_texts() == ["Search"]
    assert page.locator("#copy-section").is_hidden()
    assert page.locator("#outline-box").is_hidden()
    page.screenshot(path=str(OUT / "reading-missing-1280.png"))


def test_the_outline_navigates_to_institutional_strengthening_objective_2(page: Page) -> None:
    _ready(page, f"/read/{PA_26}")
    page.wait_for_selector("body[data-read='1']")
    page.locator(f"#outline a[href='/read/{OBJECTIVE_2}']").click()
    page.wait_for_url(f"**/read/{OBJECTIVE_2}")
    page.wait_for_selector("body[data-read='1']")
    assert page.locator("#section-title").inner_text() == "MEM Mexico 2024 — Institutional Strengthening › Objective 2"
    assert page.locator("#outline a[aria-current='page']").get_attribute("href") == f"/read/{OBJECTIVE_2}"


def test_the_report_filter_narrows_the_results(page: Page) -> None:
    _ready(page)
    page.select_option("#document", "unodc-honlac-29-2019")
    _search(page, "extradition")
    labels = page.locator("ol.results > li h3").all_inner_texts()
    assert labels and all(label.startswith("UNODC HONLAC") for label in labels)
    assert "document=unodc-honlac-29-2019" in page.url


def test_the_area_filter_offers_the_mem_thematic_areas(page: Page) -> None:
    _ready(page)
    assert page.locator("#thematic_area").is_visible()
    assert page.locator("#thematic_area option").count() == 1 + 5  # "All areas" and the MEM's five


def test_a_library_with_no_thematic_area_shows_no_area_filter(page: Page) -> None:
    # An agency's own collection without a MEM report: GET /filters leaves the kind out, and the page
    # shows no empty control for it (it used to fail on the missing list and leave "All areas" alone).
    no_areas = {"document": ["unodc-honlac-29-2019"], "recommendation": ["1", "2"], "paragraph": ["1", "2"]}
    page.route("**/filters", lambda route: route.fulfill(json=no_areas))
    _ready(page)
    assert page.locator("#document").is_visible()
    assert not page.locator("#thematic_area").is_visible()
    assert page.locator("#error").inner_text() == ""


EXTRADITION = "What does each report say about extradition?"
SPEAKING = {"MEM Mexico 2024", "Elementa Warlike Approach 2024", "US-Mexico Binational Drug Strategy 1998"}
SILENT = ["UNODC HONLAC 29 (2019)", "INL Mexico Fact Sheet 2005"]
NO_INNER_SCROLL = """m => {
  const box = m.closest('.passage-text');
  const style = getComputedStyle(box);
  return box.scrollHeight <= box.clientHeight + 1 && !['auto', 'scroll'].includes(style.overflowY);
}"""


def test_the_extradition_comparison_answers_per_report_and_names_the_silent_ones(page: Page) -> None:
    _ready(page)
    _search(page, EXTRADITION)  # no box ticked: the question asks for the comparison itself
    assert page.locator("#group").is_checked()
    titles = page.locator("section.group h3.group-title").all_inner_texts()
    assert set(titles) == SPEAKING and len(titles) == 3
    for group in page.locator("section.group").all():
        assert "extradit" in group.locator(".report-answer blockquote").inner_text().lower()
    line = page.locator(".not-addressed").inner_text()
    assert line.startswith("Not addressed in: ")
    assert sorted(line.removeprefix("Not addressed in: ").split(", ")) == sorted(SILENT)
    # The count says what is shown.
    shown = page.locator("section.group ol.results > li").count()
    assert page.locator("#status").inner_text() == f"{shown} passages from 3 of 5 reports."
    # Passages read like the report: no blank gaps, no markdown markers.
    for text in page.locator("section.group .passage-text").all_text_contents():
        assert "\n\n\n" not in text and not re.search(r"[a-z,]\n\s*\n\s*[a-z]", text), text
        assert not re.search(r"\b(?:of|the|and|to|in)\n", text), text
        assert not re.search(r"\*\w|\w\*", text), text
    # Every highlight is in view once its block is, without scrolling inside a box.
    marks = page.locator("section.group mark").all()
    assert marks
    for mark in marks:
        mark.scroll_into_view_if_needed()
        assert mark.is_visible() and mark.evaluate(NO_INNER_SCROLL)
    OUT.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(OUT / "compare-1280.png"), full_page=True)
    assert [v["id"] for v in _axe(page)] == []


def test_copy_comparison_puts_a_memo_block_on_the_clipboard(page: Page, documents: dict[str, dict]) -> None:
    _ready(page)
    _search(page, EXTRADITION)
    answers = page.locator("section.group .report-answer blockquote").all_inner_texts()
    page.locator("#copy-comparison").click()
    page.wait_for_function("() => document.querySelector('#copy-comparison').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    lines = copied.split("\n")
    assert lines[0] == f"What each report says: {EXTRADITION}"
    for title, answer in zip(page.locator("section.group h3.group-title").all_inner_texts(), answers, strict=True):
        assert f"{title}: \u201c{answer}\u201d" in lines
    mem = documents["mem-mexico-2024"]
    assert any(line.startswith(f"  {mem['title']} ({mem['publisher']}, 2024), ") for line in lines)
    assert lines[-1].startswith("Not addressed in: ") and all(s in lines[-1] for s in SILENT)


def test_an_ordinary_question_keeps_the_ranked_list_and_the_comparison_can_be_left(page: Page) -> None:
    _ready(page)
    _search(page, REHAB)
    assert page.locator("section.group").count() == 0 and not page.locator("#group").is_checked()
    _search(page, EXTRADITION)
    assert page.locator("#group").is_checked()
    _search(page, REHAB)  # the box the page ticked by itself does not carry over
    assert page.locator("section.group").count() == 0 and "group=" not in page.url
    _search(page, EXTRADITION)
    page.get_by_role("link", name="Show the ranked passages instead").click()
    page.wait_for_function(
        "() => document.querySelector('ol.results > li') && !document.querySelector('section.group')"
    )
    assert "group=none" in page.url
    assert page.locator("#status").inner_text() == f"{page.locator('ol.results > li').count()} passages."


def test_a_long_passage_is_cut_around_its_highlight_and_shows_all_on_request(page: Page) -> None:
    _ready(page)
    _search(page, "Did the BA fund military equipment?")
    item = page.locator("ol.results > li.has-answer").first
    mark = item.locator("mark")
    assert "does not include provisions for funding military equipment" in mark.inner_text()
    box = item.locator(".passage-text")
    cut = box.text_content()
    assert cut.startswith("… ") and len(cut) < 1100
    assert mark.evaluate(NO_INNER_SCROLL)
    button = item.get_by_role("button", name="Show all")
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    full = box.text_content()
    assert len(full) > 1500 and full.endswith("military equipment or training.")
    assert item.get_by_role("button", name="Show less").get_attribute("aria-expanded") == "true"
    assert item.locator("mark").is_visible()
    page.screenshot(path=str(OUT / "long-passage-1280.png"))


def test_an_invalid_filter_shows_the_api_message(page: Page) -> None:
    # A shared link with a thematic area that does not exist: the API answers 422 with the valid values.
    _ready(page, "/?q=budget&thematic_area=astronomy")
    page.wait_for_selector("#error .error")
    message = page.locator("#error").inner_text()
    assert message.startswith("Please change the question or filters: thematic_area 'astronomy' matches no")
    assert "Institutional Strengthening" in message  # the valid values are listed
    page.screenshot(path=str(OUT / "error-1280.png"))


def test_the_url_reproduces_a_search_and_back_returns_to_the_previous_one(page: Page) -> None:
    _ready(page)
    _search(page, "alliance point 5")
    _search(page, "recommendation 11")
    searched = page.evaluate("Number(document.body.dataset.searched)")
    page.go_back()
    page.wait_for_function(f"() => Number(document.body.dataset.searched) > {searched}")
    assert page.input_value("#q") == "alliance point 5"
    assert "Alliance Point 5" in page.locator("ol.results > li h3").first.inner_text()
    link = page.url
    _ready(page, link)
    page.wait_for_function("() => document.querySelector('ol.results h3') !== null")
    assert "Alliance Point 5" in page.locator("ol.results > li h3").first.inner_text()


def test_keyboard_slash_focuses_the_search_and_results_are_tab_reachable(page: Page) -> None:
    _ready(page)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("alliance point 5")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('ol.results h3 a') !== null")
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.closest('ol.results h3') !== null"))
    assert any(reached)


def test_the_phone_layout_has_no_horizontal_scrolling(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server)
    problems = _watch(context, [])
    page = context.new_page()
    try:
        _ready(page)
        _search(page, REHAB)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(OUT / "search-390.png"))
        page.locator("ol.results > li").first.locator("h3 a").click()
        page.wait_for_selector("body[data-read='1']")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(OUT / "reading-390.png"))
    finally:
        context.close()
    assert problems == [], f"the browser reported: {problems}"


def test_no_serious_or_critical_accessibility_violations(page: Page) -> None:
    _ready(page)
    _search(page, REHAB)
    search_violations = _axe(page)
    _ready(page, f"/read/{PA_26}")
    page.wait_for_selector("body[data-read='1']")
    read_violations = _axe(page)
    summary = {"search": [v["id"] for v in search_violations], "reading": [v["id"] for v in read_violations]}
    TIMINGS["axe_serious_or_critical"] = len(search_violations) + len(read_violations)
    assert summary == {"search": [], "reading": []}


def test_page_weight(page: Page) -> None:
    # Reported, not asserted beyond sanity: the shell, its script and style, without the API's JSON.
    sizes: dict[str, int] = {}
    page.on(
        "response",
        lambda r: sizes.__setitem__(r.url, len(r.body())) if "/static/" in r.url or r.url.endswith("/") else None,
    )
    _ready(page)
    TIMINGS["page_weight_kb"] = round(sum(sizes.values()) / 1024, 1)
    assert 0 < TIMINGS["page_weight_kb"] < 200


# -- the pages under a strict Content-Security-Policy (issue 21, finding 9) -------------------

PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'"


def test_the_pages_send_a_strict_policy_and_no_sniffing(page: Page) -> None:
    for path in ("/", f"/read/{PA_26}", f"/read/{PA_26}9"):
        response = page.goto(path)
        assert response is not None
        headers = response.headers
        assert headers["content-security-policy"] == PAGE_POLICY, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path


def test_the_policy_stops_an_injected_inline_handler(page: Page, problems: list[str]) -> None:
    # Were the page ever to insert a question as markup, its inline handler would not run.
    _ready(page)
    with page.expect_console_message(lambda m: m.text.startswith("CSP violation")):
        markup = '<img src="/static/favicon.svg" onload="window.injected = 1">'
        page.evaluate("markup => document.body.insertAdjacentHTML('beforeend', markup)", markup)
    assert page.evaluate("window.injected") is None
    # Chromium's own console line and the securitypolicyviolation event, both for this one handler.
    assert "CSP violation: script-src-attr blocked inline (:1)" in problems
    assert all("Content Security Policy" in p or p.startswith("CSP violation") for p in problems), problems
    problems.clear()  # the violation this test provoked


def test_the_api_docs_render_every_operation_under_their_policy(page: Page, live_server: str) -> None:
    response = page.goto("/docs")
    assert response is not None
    assert response.headers["content-security-policy"] == f"{PAGE_POLICY}; img-src 'self' data:"
    page.wait_for_selector(".opblock")
    paths = httpx.get(f"{live_server}/openapi.json").json()["paths"]
    assert page.locator(".opblock").count() == sum(len(item) for item in paths.values())
    # "Try it out" calls the API from the page: GET /documents answers 200.
    documents = page.locator(".opblock-get", has=page.locator("[data-path='/documents']"))
    documents.locator(".opblock-summary").click()
    documents.get_by_role("button", name="Try it out").click()
    documents.get_by_role("button", name="Execute").click()
    status = documents.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    page.screenshot(path=str(OUT / "docs-1280.png"))


def test_the_page_may_call_mcp_from_its_own_origin(page: Page, live_server: str) -> None:
    # The browser sends the page's origin with the POST; the server's own origin is allowed.
    _ready(page)
    call = """async () => {
      const body = {jsonrpc: "2.0", id: 1, method: "initialize", params: {
        protocolVersion: "2025-06-18", capabilities: {}, clientInfo: {name: "page", version: "1"}}};
      const r = await fetch("/mcp", {method: "POST", body: JSON.stringify(body),
        headers: {"content-type": "application/json", accept: "application/json, text/event-stream"}});
      return [r.status, await r.json()];
    }"""
    with page.expect_request("**/mcp") as request:
        status, body = page.evaluate(call)
    assert request.value.headers["origin"] == live_server
    assert status == 200 and body["result"]["serverInfo"]["name"] == "policyqa"
