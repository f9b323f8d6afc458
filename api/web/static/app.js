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

// The reports' files carry markdown markers from their conversion ("#### **Objective 4**"). For
// reading they are dropped; the words are untouched, and copied citations use ids and spans, not this.
function readable(text) {
  return text.replace(/^#{1,6}[ \t]+/gm, "").replace(/\*\*/g, "");
}

// Text with [start, end) marked, offsets relative to the text (marked before markers are dropped).
function markedText(text, start, end, markId) {
  const box = el("div", { class: "passage-text" });
  const from = Math.max(start ?? -1, 0);
  const to = Math.min(end ?? -1, text.length);
  if (start === null || start === undefined || from >= to) {
    box.textContent = readable(text);
    return box;
  }
  box.append(readable(text.slice(0, from)), el("mark", { id: markId, text: readable(text.slice(from, to)) }));
  box.append(readable(text.slice(to)));
  return box;
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

function citationText(documentId, label, sectionId) {
  const doc = state.documents[documentId] || {};
  const year = (doc.date || "").slice(0, 4);
  const source = [doc.publisher, year].filter(Boolean).join(", ");
  const title = doc.title || documentId;
  return `${title}${source ? ` (${source})` : ""}, ${sectionPath(label)}. Section id: ${sectionId}.`;
}

function copyButton(documentId, label, sectionId, text = "Copy citation") {
  const button = el("button", { type: "button", class: "copy", text });
  button.addEventListener("click", async () => {
    const citation = citationText(documentId, label, sectionId);
    try {
      await navigator.clipboard.writeText(citation);
      button.textContent = "Copied";
    } catch {
      window.prompt("Copy this citation:", citation);
    }
    setTimeout(() => (button.textContent = text), 2000);
  });
  return button;
}

function readLink(citation, text) {
  const href = `/read/${citation.section_id}?start=${citation.char_start}&end=${citation.char_end}`;
  return el("a", { href, class: "label", text: text || citation.label });
}

// -- search view ------------------------------------------------------------------

function formParams() {
  const params = new URLSearchParams();
  const q = $("q").value.trim();
  if (q) params.set("q", q);
  for (const name of ["document", "thematic_area"]) {
    if ($(name).value) params.set(name, $(name).value);
  }
  if ($("group").checked) params.set("group", "document");
  return params;
}

function fillForm(params) {
  $("q").value = params.get("q") || "";
  $("document").value = params.get("document") || "";
  $("thematic_area").value = params.get("thematic_area") || "";
  $("group").checked = params.get("group") === "document";
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
    markedText(result.text, start, end),
    el("p", { class: "cite-row" }, copyButton(c.document_id, c.label, c.section_id), el("code", { text: c.section_id })),
  );
}

function answerBlock(answer) {
  const c = answer.citation;
  return el(
    "section",
    { class: "answer", "aria-labelledby": "answer-heading" },
    el("h2", { id: "answer-heading", text: "Answer" }),
    el("blockquote", { text: readable(answer.display || answer.text).replace(/\s+/g, " ").trim() }),
    el("p", { class: "source" }, "Source: ", readLink(c)),
    el("p", { class: "cite-row" }, copyButton(c.document_id, c.label, c.section_id)),
  );
}

function renderResults(data) {
  const box = $("results");
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
  if (data.groups) {
    parts.push(el("h2", { class: "results-heading", text: "What each report says" }));
    for (const group of data.groups) {
      parts.push(
        el(
          "section",
          { class: "group", "aria-label": group.document_title },
          el("h3", { class: "group-title", text: group.document_title }),
          el("ol", { class: "results" }, group.results.map((r) => resultItem(r, data.answer))),
        ),
      );
    }
  } else {
    parts.push(el("h2", { class: "results-heading", text: `Passages (${data.results.length})` }));
    parts.push(el("ol", { class: "results" }, data.results.map((r) => resultItem(r, data.answer))));
  }
  box.replaceChildren(...parts);
}

async function runSearch(params) {
  const t0 = performance.now();
  showError("");
  $("status").textContent = "Searching…";
  const query = new URLSearchParams({ q: params.get("q"), top_k: "10" });
  for (const name of ["document", "thematic_area"]) if (params.get(name)) query.set(name, params.get(name));
  if (params.get("group") === "document") query.set("group_by", "document");
  try {
    const data = await api(`/search?${query}`);
    renderResults(data);
    $("status").textContent = `${data.results.length} passages.`;
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
    const copy = copyButton(section.document_id, section.label, section.section_id);
    copy.id = "copy-section";
    $("copy-section").replaceWith(copy);
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

async function loadChoices() {
  // Filter values come from the API, never from a list written into the page.
  const [documents, filters] = await Promise.all([api("/documents"), api("/filters")]);
  for (const doc of documents) {
    state.documents[doc.id] = doc;
    $("document").append(el("option", { value: doc.id, text: doc.short_title }));
  }
  for (const area of filters.thematic_area) $("thematic_area").append(el("option", { value: area, text: area }));
}

document.addEventListener("DOMContentLoaded", async () => {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
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
  await waitUntilReady();
  try {
    await loadChoices();
  } catch (error) {
    showError(error.message);
  }
  route();
  document.body.dataset.ready = "1";
});
