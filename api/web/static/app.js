// policyqa staff page: search view (/) and reading view (/read/{section_id}).
// Plain DOM code, no framework and no build step; every value shown comes from
// the JSON API of this same server, and every URL it requests is same-origin.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { documents: {} }; // document id -> catalog entry (title, publisher, date)

// -- API ------------------------------------------------------------------------

class ApiError extends Error {}

async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError("The server cannot be reached. Check that policyqa is running, then try again.");
  }
  if (response.ok) return response.json();
  let message = `The server answered ${response.status}.`;
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch {
    /* not JSON: keep the status line */
  }
  if (response.status === 503) message = `The service is not ready: ${message}`;
  else if (response.status === 422) message = `Please change the question or filters: ${message}`;
  throw new ApiError(message);
}

// -- small DOM helpers ------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function showError(message) {
  const box = $("error");
  box.replaceChildren(message ? el("p", { class: "error", text: message }) : "");
}

// The reports' files carry their conversion's traces: markdown markers ("#### **Objective 4**",
// "*CIJ*") and page breaks that cut a sentence with blank lines ("Children,\n\n\nwhich complement").
// For reading they are dropped and the cut sentence joined, as qa/display.py does for the API's
// `display`; the words are untouched, and copied citations use ids and spans, not this.
const WORD = "[\\p{L}\\p{N}_]";
const MARKS = "[\uE000\uE001]?"; // the highlight's own markers (markedText) may stand at a join
const MARKUP = new RegExp(
  `\\*\\*|__|</?[a-zA-Z][^>]*>|(?<!${WORD}|\\*)\\*(?=${WORD}|\\()|(?<=${WORD}|[.),;:])\\*(?!${WORD}|\\*)`,
  "gu",
);
const OPEN_END = new RegExp(
  `\\b(of|the|a|an|and|or|to|in|on|for|with|by|from|at|as|that|which|its|their|between)(${MARKS})[ \\t]*\\n(?:[ \\t]*\\n)*[ \\t]*(?=\\S)`,
  "gu",
);
const MID_SENTENCE = new RegExp(`(?<=(?:${WORD}|[,;\\-–])${MARKS})[ \\t]*\\n(?:[ \\t]*\\n)*[ \\t]*(?=${MARKS}[a-z(])`, "gu");

function readable(text) {
  return text
    .replace(/^[ \t]*#{1,6}[ \t]+/gm, "")
    .replace(MARKUP, "")
    .replace(/[ \t]+\n/g, "\n")
    .replace(MID_SENTENCE, " ")
    .replace(OPEN_END, "$1$2 ")
    .replace(/\n(?:[ \t]*\n){2,}/g, "\n\n");
}

const LONG_PASSAGE = 1100; // characters shown in full; a longer passage is cut around its highlight
const CONTEXT = 350; // characters kept on each side of the highlight when cut

// Text with [start, end) marked, offsets relative to the verbatim text. The markers are placed
// before the text is made readable, so the highlight covers exactly the cited words.
function markedText(text, start, end, markId, cut = false) {
  const box = el("div", { class: "passage-text" });
  const from = Math.max(start ?? -1, 0);
  const to = Math.min(end ?? -1, text.length);
  const marked = start !== null && start !== undefined && from < to;
  const shown = readable(marked ? text.slice(0, from) + "\uE000" + text.slice(from, to) + "\uE001" + text.slice(to) : text);
  const full = shown.trim();
  const draw = (whole) => {
    let body = full;
    let head = "";
    let tail = "";
    if (!whole) {
      const ms = marked ? full.indexOf("\uE000") : 0;
      const me = marked ? full.indexOf("\uE001") : 0;
      let a = Math.max(0, ms - CONTEXT);
      let b = Math.min(full.length, Math.max(me + CONTEXT, a + 2 * CONTEXT));
      if (a > 0) a = full.indexOf(" ", a) + 1 || a;
      if (b < full.length) b = full.lastIndexOf(" ", b) > me ? full.lastIndexOf(" ", b) : b;
      body = full.slice(a, b);
      head = a > 0 ? "… " : "";
      tail = b < full.length ? " …" : "";
    }
    const [before, rest = ""] = body.split("\uE000");
    const [inside, after] = rest.includes("\uE001") ? rest.split("\uE001") : [null, rest];
    box.replaceChildren(head + before);
    if (marked && inside !== null) box.append(el("mark", { id: markId, text: inside }));
    box.append(after.replace("\uE001", "") + tail);
  };
  if (!cut || full.length <= LONG_PASSAGE) {
    draw(true);
    return box;
  }
  draw(false);
  const more = el("button", { type: "button", class: "show-all", "aria-expanded": "false", text: "Show all" });
  more.addEventListener("click", () => {
    const open = more.getAttribute("aria-expanded") === "true";
    draw(open ? false : true);
    more.setAttribute("aria-expanded", open ? "false" : "true");
    more.textContent = open ? "Show all" : "Show less";
  });
  const wrap = el("div", { class: "passage" }, box, more);
  return wrap;
}

// -- citations --------------------------------------------------------------------

function lastStep(label) {
  // "MEM Mexico 2024 — Institutional Strengthening › Objective 2" -> "Objective 2"
  const steps = sectionPath(label).split(" › ");
  return steps[steps.length - 1];
}

function sectionPath(label) {
  // "MEM Mexico 2024 — Institutional Strengthening › Objective 2" -> the typed path after the report name.
  const cut = label.indexOf(" — ");
  return cut >= 0 ? label.slice(cut + 3) : label;
}

// ", p. 12" or ", pp. 12-13" after a label; nothing for a report without pages.
function pageNote(pages) {
  if (!pages) return "";
  return pages[0] === pages[1] ? `, p. ${pages[0]}` : `, pp. ${pages[0]}-${pages[1]}`;
}

function citationText(documentId, label, sectionId, pages) {
  const doc = state.documents[documentId] || {};
  const year = (doc.date || "").slice(0, 4);
  const source = [doc.publisher, year].filter(Boolean).join(", ");
  const title = doc.title || documentId;
  return `${title}${source ? ` (${source})` : ""}, ${sectionPath(label)}${pageNote(pages)}. Section id: ${sectionId}.`;
}

// A button that copies what `made()` gives to the clipboard, says "Copied" for two seconds,
// and offers the text in a prompt where the clipboard is refused.
function clipboardButton(text, what, made, attrs = {}) {
  const button = el("button", { type: "button", class: "copy", ...attrs, text });
  button.addEventListener("click", async () => {
    const copied = made();
    try {
      await navigator.clipboard.writeText(copied);
      button.textContent = "Copied";
    } catch {
      window.prompt(`Copy this ${what}:`, copied);
    }
    setTimeout(() => (button.textContent = text), 2000);
  });
  return button;
}

function copyButton(documentId, label, sectionId, text = "Copy citation", pages = null) {
  return clipboardButton(text, "citation", () => citationText(documentId, label, sectionId, pages));
}

function readLink(citation, text) {
  const page = citation.pages ? `&page=${citation.pages[0]}` : "";
  const href = `/read/${citation.section_id}?start=${citation.char_start}&end=${citation.char_end}${page}`;
  return el("a", { href, class: "label", text: text || citation.label + pageNote(citation.pages) });
}

// -- search view ------------------------------------------------------------------

function formParams() {
  const params = new URLSearchParams();
  const q = $("q").value.trim();
  if (q) params.set("q", q);
  for (const name of ["document", "thematic_area"]) {
    if ($(name).value) params.set(name, $(name).value);
  }
  // A box the page ticked by itself (a comparison question) does not carry over to the next question.
  if ($("group").checked && !$("group").dataset.auto) params.set("group", "document");
  return params;
}

function fillForm(params) {
  $("q").value = params.get("q") || "";
  $("document").value = params.get("document") || "";
  $("thematic_area").value = params.get("thematic_area") || "";
  $("group").checked = params.get("group") === "document";
  delete $("group").dataset.auto;
}

function resultItem(result, answer) {
  const c = result.citation;
  let start = null;
  let end = null;
  if (answer && answer.passage_id === result.passage_id) {
    start = answer.citation.char_start - c.char_start;
    end = answer.citation.char_end - c.char_start;
  }
  return el(
    "li",
    { class: "result" + (start !== null ? " has-answer" : "") },
    el("h3", {}, readLink(c)),
    markedText(result.text, start, end, null, true),
    el(
      "p",
      { class: "cite-row" },
      copyButton(c.document_id, c.label, c.section_id, undefined, c.pages),
      el("code", { text: c.section_id }),
    ),
  );
}

function answerSentence(answer) {
  return readable(answer.display || answer.text).replace(/\s+/g, " ").trim();
}

function answerBlock(answer) {
  const c = answer.citation;
  return el(
    "section",
    { class: "answer", "aria-labelledby": "answer-heading" },
    el("h2", { id: "answer-heading", text: "Answer" }),
    el("blockquote", { text: answerSentence(answer) }),
    el("p", { class: "source" }, "Source: ", readLink(c)),
    el("p", { class: "cite-row" }, copyButton(c.document_id, c.label, c.section_id, undefined, c.pages)),
  );
}

function shortTitle(group) {
  return group.short_title || (state.documents[group.document_id] || {}).short_title || group.document_title;
}

// The whole comparison as a memo block: per report that speaks, its answer sentence and its
// citation; then the reports that say nothing on the question.
function comparisonMemo(query, groups) {
  const lines = [`What each report says: ${query}`, ""];
  for (const g of groups.filter((g) => g.relevant && g.answer)) {
    const c = g.answer.citation;
    lines.push(`${shortTitle(g)}: \u201c${answerSentence(g.answer)}\u201d`);
    lines.push(`  ${citationText(c.document_id, c.label, c.section_id)}`, "");
  }
  const silent = groups.filter((g) => !g.relevant).map(shortTitle);
  if (silent.length) lines.push(`Not addressed in: ${silent.join(", ")}`);
  return lines.join("\n").trim();
}

function copyComparison(query, groups) {
  return clipboardButton("Copy comparison", "comparison", () => comparisonMemo(query, groups), {
    id: "copy-comparison",
  });
}

function reportBlock(group) {
  const a = group.answer;
  return el(
    "section",
    { class: "group", "aria-label": shortTitle(group) },
    el("h3", { class: "group-title", text: shortTitle(group) }),
    a
      ? el(
          "div",
          { class: "answer report-answer" },
          el("blockquote", { text: answerSentence(a) }),
          el("p", { class: "source" }, "Source: ", readLink(a.citation)),
        )
      : null,
    el("ol", { class: "results" }, group.results.map((r) => resultItem(r, a))),
  );
}

function renderComparison(data, auto) {
  const parts = [];
  const speaking = data.groups.filter((g) => g.relevant);
  const silent = data.groups.filter((g) => !g.relevant);
  parts.push(
    el(
      "div",
      { class: "compare-head" },
      el("h2", { class: "results-heading", text: "What each report says" }),
      speaking.length ? copyComparison(data.query, data.groups) : null,
    ),
  );
  if (auto) {
    const list = new URLSearchParams(location.search);
    list.set("group", "none");
    parts.push(
      el(
        "p",
        { class: "switch-note" },
        "The question asks what each report says, so the reports are compared. ",
        el("a", { href: `/?${list}`, text: "Show the ranked passages instead" }),
      ),
    );
  }
  if (!speaking.length) parts.push(el("p", { class: "no-answer", text: "No report addresses this closely enough." }));
  for (const group of speaking) parts.push(reportBlock(group));
  if (silent.length) {
    parts.push(
      el("p", { class: "not-addressed" }, el("strong", { text: "Not addressed in: " }), silent.map(shortTitle).join(", ")),
    );
  }
  return parts;
}

function renderResults(data, auto = false) {
  const box = $("results");
  if (data.groups) {
    box.replaceChildren(...renderComparison(data, auto));
    return;
  }
  const parts = [];
  const routed = data.results.some((r) => r.routed);
  if (data.answer) parts.push(answerBlock(data.answer));
  else if (!routed) {
    parts.push(
      el(
        "section",
        { class: "no-answer", "aria-labelledby": "no-answer-heading" },
        el("h2", { id: "no-answer-heading", text: "No passage answers this closely enough" }),
        el("p", {
          text:
            "Try other words, or name a report (\u201caccording to the MEM\u201d) or a section " +
            "(\u201cpriority action 2.6\u201d, \u201crecommendation 11\u201d, \u201calliance point 5\u201d). " +
            "The closest passages follow.",
        }),
      ),
    );
  }
  parts.push(el("h2", { class: "results-heading", text: `Passages (${data.results.length})` }));
  parts.push(el("ol", { class: "results" }, data.results.map((r) => resultItem(r, data.answer))));
  box.replaceChildren(...parts);
}

function shownCount(data) {
  if (!data.groups) return `${data.results.length} passages.`;
  const passages = data.groups.reduce((n, g) => n + g.results.length, 0);
  const speaking = data.groups.filter((g) => g.relevant).length;
  return `${passages} passage${passages === 1 ? "" : "s"} from ${speaking} of ${data.groups.length} reports.`;
}

async function runSearch(params) {
  const t0 = performance.now();
  showError("");
  $("status").textContent = "Searching…";
  const query = new URLSearchParams({ q: params.get("q"), top_k: "10" });
  for (const name of ["document", "thematic_area"]) if (params.get(name)) query.set(name, params.get(name));
  if (params.get("group") === "document") query.set("group_by", "document");
  try {
    let data = await api(`/search?${query}`);
    // A question that asks what each report says gets the comparison by itself, unless the
    // person chose the list ("group=none", the note's link) or a single report.
    const auto = !data.groups && data.asks_comparison && !params.get("group") && !params.get("document");
    if (auto) {
      query.set("group_by", "document");
      data = await api(`/search?${query}`);
      $("group").checked = true;
      $("group").dataset.auto = "1";
    }
    renderResults(data, auto);
    $("status").textContent = shownCount(data);
  } catch (error) {
    $("results").replaceChildren();
    $("status").textContent = "";
    showError(error.message);
  }
  // Read by the browser tests: time from the request to drawn results.
  window.policyqaLastSearchMs = performance.now() - t0;
  document.body.dataset.searched = String(Number(document.body.dataset.searched || 0) + 1);
}

function renderSearchView() {
  $("search-view").hidden = false;
  $("read-view").hidden = true;
  const params = new URLSearchParams(location.search);
  fillForm(params);
  document.title = params.get("q") ? `${params.get("q")} — policyqa` : "policyqa — drug-policy reports, cited";
  if (params.get("q")) runSearch(params);
  else {
    $("results").replaceChildren();
    $("status").textContent = "";
  }
}

// -- reading view -----------------------------------------------------------------

function outlineList(nodes, current) {
  return el(
    "ol",
    {},
    nodes.map((node) =>
      el(
        "li",
        {},
        el("a", {
          href: `/read/${node.section_id}`,
          "aria-current": node.section_id === current ? "page" : null,
          title: node.title !== node.label ? node.title : null,
          text: node.number ? node.label : readable(node.title),
        }),
        node.children.length ? outlineList(node.children, current) : null,
      ),
    ),
  );
}

async function renderReadView() {
  $("search-view").hidden = true;
  $("read-view").hidden = false;
  showError("");
  const sectionId = decodeURIComponent(location.pathname.slice("/read/".length));
  const params = new URLSearchParams(location.search);
  try {
    const section = await api(`/sections/${sectionId}`);
    document.title = `${section.label} — policyqa`;
    $("crumbs").replaceChildren(
      el("li", {}, el("a", { href: "/", text: "Search" })),
      ...section.ancestors.map((a) => el("li", {}, el("a", { href: `/read/${a.section_id}`, text: lastStep(a.label) }))),
      el("li", { "aria-current": "page", text: lastStep(section.label) }),
    );
    $("section-title").textContent = section.label;
    $("section-id").textContent = section.section_id;
    // The cited page (from the search result's link), else the section's first page.
    const page = params.has("page") ? Number(params.get("page")) : section.pages ? section.pages[0] : null;
    const copy = copyButton(section.document_id, section.label, section.section_id, undefined,
      page ? [page, page] : section.pages);
    copy.id = "copy-section";
    $("copy-section").replaceWith(copy);
    const original = $("original");
    original.hidden = !page;
    if (page) {
      original.setAttribute("href", `/documents/${section.document_id}/file#page=${page}`);
      original.textContent = `Open the original, p. ${page}`;
    }
    // Only the section's own runs of text: a MEM objective's annex actions stand far from its assessment.
    const start = params.has("start") ? Number(params.get("start")) : null;
    const end = params.has("end") ? Number(params.get("end")) : null;
    const box = el("div", { id: "section-text" });
    section.pieces.forEach((piece, i) => {
      if (i) box.append(el("p", { class: "gap", text: "[…]" }));
      const inside = start !== null && start < piece.char_end && end > piece.char_start;
      const s = inside ? start - piece.char_start : null;
      const e = inside ? end - piece.char_start : null;
      box.append(markedText(piece.text, s, e, inside ? "cited" : null));
    });
    $("section-text").replaceWith(box);
    for (const [id, target] of [["prev", section.previous_section_id], ["next", section.next_section_id]]) {
      $(id).hidden = !target;
      if (target) $(id).setAttribute("href", `/read/${target}`);
    }
    const cited = $("cited");
    if (cited) cited.scrollIntoView({ block: "center" });
    const outline = await api(`/documents/${section.document_id}/outline`);
    const doc = state.documents[section.document_id];
    $("outline-title").textContent = `Outline: ${doc ? doc.short_title : outline.title}`;
    $("outline").replaceChildren(outlineList(outline.children, section.section_id));
    if (window.matchMedia("(max-width: 800px)").matches) $("outline-box").open = false;
  } catch (error) {
    // Nothing to cite or browse: a way back to the search instead of an empty outline and a copy button.
    $("section-title").textContent = "Section not available";
    $("crumbs").replaceChildren(el("li", {}, el("a", { href: "/", text: "Search" })));
    $("copy-section").hidden = true;
    $("outline-box").hidden = true;
    showError(error.message);
  }
  document.body.dataset.read = String(Number(document.body.dataset.read || 0) + 1);
}

// -- start ------------------------------------------------------------------------

// Until the index is ready, say so (the startup build's step N of M), and carry on by itself when it is.
async function waitUntilReady() {
  for (;;) {
    let message;
    try {
      const response = await fetch("/readyz");
      if (response.ok) break;
      const body = await response.json().catch(() => ({}));
      if (body.status === "building" && body.progress) {
        const { step, steps, doing } = body.progress;
        message = `Building the index (step ${step} of ${steps})… ${doing}. This page loads by itself when it is ready.`;
      } else {
        const why = body.error && body.error.message ? body.error.message : `The server answered ${response.status}.`;
        message = `The service is not ready: ${why} This page loads by itself when it is ready.`;
      }
    } catch {
      message = "The server cannot be reached. Check that policyqa is running; this page retries by itself.";
    }
    $("notice").replaceChildren(el("p", { class: "notice", text: message }));
    document.body.dataset.waiting = "1";
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  $("notice").replaceChildren();
  delete document.body.dataset.waiting;
}

function route() {
  if (location.pathname.startsWith("/read/")) renderReadView();
  else renderSearchView();
}

// Filter values come from the API, never from a list written into the page. Run at start and after
// an add: each run replaces the choices (after the first "All ..." one) and keeps what was chosen.
// A filter with no values in the loaded reports is not shown: /filters leaves out a kind no report has
// (no thematic areas in a library without a MEM report), and its control stays hidden.
async function loadChoices() {
  const [documents, filters] = await Promise.all([api("/documents"), api("/filters")]);
  state.documents = Object.fromEntries(documents.map((doc) => [doc.id, doc]));
  const choices = [
    ["document", documents.map((doc) => [doc.id, doc.short_title])],
    ["thematic_area", (filters.thematic_area || []).map((area) => [area, area])],
  ];
  for (const [id, values] of choices) {
    const select = $(id);
    const chosen = select.value;
    select.replaceChildren(select.options[0], ...values.map(([value, text]) => el("option", { value, text })));
    select.value = chosen;
    if (select.selectedIndex < 0) select.selectedIndex = 0; // a choice that is gone
    select.closest(".field").hidden = values.length === 0;
  }
}

async function showUploadForm() {
  // Before the catalog: an empty library (no index yet) is exactly when the form is needed.
  const uploads = await api("/web/uploads");
  $("add-report").hidden = !uploads.enabled;
}

// -- add a report (only when the server has an admin token) ----------------------

async function addReport(event) {
  event.preventDefault();
  const form = $("add-form");
  const data = new FormData(form);
  const token = data.get("token");
  data.delete("token");
  for (const [name, value] of [...data.entries()]) if (value === "") data.delete(name);
  $("add-status").textContent = "Adding the report: extracting and indexing, this takes a minute or more…";
  form.querySelector("button").disabled = true;
  try {
    const response = await fetch("/documents", { method: "POST", body: data, headers: { Authorization: `Bearer ${token}` } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
    $("add-status").textContent = `Added ${body.id} (${body.scheme}): ${body.title}`;
    form.reset();
    await loadChoices().catch((error) => showError(error.message));
  } catch (error) {
    $("add-status").textContent = `Not added: ${error.message}`;
  } finally {
    form.querySelector("button").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("group").addEventListener("change", () => delete $("group").dataset.auto);
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if ($("search-button").disabled) return; // no index yet: the search would only get a 503
    const params = formParams();
    if (!params.get("q")) return;
    history.pushState(null, "", `/?${params}`);
    renderSearchView();
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      if (location.pathname !== "/") {
        location.href = "/";
        return;
      }
      $("q").focus();
    }
  });
  window.addEventListener("popstate", route);
  $("add-form").addEventListener("submit", addReport);
  try {
    await showUploadForm(); // before waiting: an empty library is never ready until a report is added
  } catch (error) {
    showError(error.message);
  }
  await waitUntilReady();
  // Search stays off, saying why beside the button, until /readyz says ready.
  $("search-button").disabled = false;
  $("search-button").removeAttribute("aria-describedby");
  $("search-wait").hidden = true;
  try {
    await loadChoices();
  } catch (error) {
    showError(error.message);
  }
  route();
  document.body.dataset.ready = "1";
});
