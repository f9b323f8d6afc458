"""Answer units of passage text: sentences, list items and table rows, with corpus offsets.

Shared by the index (every unit is embedded at build time) and answers
(``qa.answer`` chooses one). A unit's span is in corpus-file offsets when the
passage start is given, so an answer cites the exact characters it quotes:
``corpus_text[start:end]`` is the unit, verbatim.

- **Table rows.** The reports' tables are tab-separated lines (the PDF
  conversion's cells). Each data row is a unit; its table's header rows
  (found in the document text, since a long table's later passages do not
  hold them) travel with it, for display and embedding.
- **List items.** A line opening with a bullet ("- ", "• ") or an item
  number ("1.1 ", the Binational Strategy's actions) starts an item, which
  runs to the next item or paragraph: one unit, however many sentences.
- **Sentences**, everywhere else.

Heading lines (``#####``), lines that are bold and nothing else (a list's
"**2019**" group title), single-cell table rows and separator rows are no
units: they never answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.types import Span

__all__ = ["UNIT_KINDS", "Unit", "answer_units", "split_sentences", "table_columns", "unit_embed_text"]

UNIT_KINDS: tuple[str, ...] = ("sentence", "list_item", "table_row")
"""What an answer unit is; the index stores the position in this tuple."""

# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed
# by space and something that can start a sentence. A blank line or a new
# list item also ends one, unless the next line starts in lower case (a
# page break in mid-sentence: "their\n\n\n\nspecific needs").
_BOUNDARY = re.compile(
    r"[.!?][\"”’)\]]*(?P<gap>\s+)(?=[\"“(\[A-Z0-9•\-*])"
    r"|(?P<para>\n\s*\n\s*)(?=[^a-z\s])"
    r"|(?P<item>\n\s*)(?=(?:[-•*]|\d{1,2}[.)])\s)"
)
# Words after which a period does not end a sentence ("U.S. Department",
# "No. 5", "e.g. Mexico"), and single capitals (initials).
_ABBREVIATIONS = frozenset(
    {"u.s", "e.g", "i.e", "etc", "no", "nos", "art", "arts", "mr", "mrs", "ms", "dr", "st", "jr", "sr"}
    | {"vs", "vol", "p", "pp", "para", "paras", "inc", "co", "corp", "gen", "lic"}
)
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
# "1." or "2.6." opening a list item is a number, not a sentence.
_LIST_NUMBER = re.compile(r"\d{1,3}(?:\.\d{1,3})*\.")
# What opens a list item at the start of a line: a bullet, "1." / "1)", or an
# action number "1.1" / "3.5.1" followed by its text.
_ITEM = re.compile(r"(?:[-•*]|\d{1,2}[.)]|\d{1,2}(?:\.\d{1,2})+\.?)[ \t]+\S")
_HEADING = re.compile(r"#{1,6}(?:\s|$)")
# A line that is markup-wrapped and nothing else: "**2019**", "- **2022**", "<b>OBJECTIVE</b>".
_BOLD_ONLY = re.compile(r"(?:[-•*]\s+)?(?:\*\*[^*]+\*\*|(?:<b>[^<]*</b>\s*)+):?")
_SEPARATOR = re.compile(r"[-|:\s]+")
_MARKUP = re.compile(r"\*\*|__|</?[a-zA-Z][^>]*>|(?<!\w)\*|\*(?!\w)")
_WS = re.compile(r"\s+")

MAX_ITEM_SENTENCES = 2
MAX_ITEM_CHARS = 400
"""A list item longer than both is split back into its sentences: it is a numbered paragraph."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One answer candidate: ``[start, end)`` in the corpus file, its kind, and a row's table header."""

    start: int
    end: int
    kind: str = "sentence"
    header: str = ""
    """A table row's header rows, verbatim (tab-separated cells, one line per header row)."""


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Trimmed sentence spans of ``text``, shifted by ``offset``; ``text[s-offset:e-offset]`` is one sentence."""
    spans: list[Span] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        if m.group("gap"):
            # m.start() is the punctuation; a period after an abbreviation ends nothing.
            last = _LAST_WORD.search(text, max(0, m.start() - 30), m.start() + 1)
            if (last and _is_abbreviation(last.group(1))) or _LIST_NUMBER.fullmatch(text[pos : m.start() + 1].strip()):
                continue
        gap = next(g for g in ("gap", "para", "item") if m.group(g) is not None)
        spans.extend(_trimmed(text, pos, m.start(gap), offset))
        pos = m.end()
    spans.extend(_trimmed(text, pos, len(text), offset))
    return spans


def answer_units(text: str, offset: int = 0, document: str | None = None) -> list[Unit]:
    """The answer units of ``text`` (a passage, starting at ``offset`` in its corpus file), in order.

    ``document`` is the whole corpus file: with it, a table row whose header
    rows stand before the passage still gets them; without it, only headers
    inside ``text`` are seen.
    """
    units: list[Unit] = []
    run_start: int | None = None  # start (in text) of the current run of prose lines
    pos = 0
    for line in text.split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        stripped = line.strip()
        if "\t" in line or _HEADING.match(stripped) or (stripped and _BOLD_ONLY.fullmatch(stripped)):
            if run_start is not None:
                units.extend(_prose(text, run_start, s, offset))
                run_start = None
            if "\t" in line:
                row = _row(text, s, e, offset, document)
                if row is not None:
                    units.append(row)
            continue
        if run_start is None and stripped:
            run_start = s
    if run_start is not None:
        units.extend(_prose(text, run_start, len(text), offset))
    return units


def unit_embed_text(text: str, unit: Unit) -> str:
    """What is embedded for ``unit`` (``text`` is its verbatim slice): a row reads with its header.

    A sentence is embedded as it stands (as before list items and rows were
    told apart); an item and a row without markup, a row after its header,
    cells joined by " | " as the passages' embedded text shows them.
    """
    if unit.kind == "sentence":
        return text
    body = _clean(text)
    return f"{_clean(unit.header)} | {body}" if unit.header else body


def table_columns(header: str) -> list[str]:
    """Each column's name, from a row's header rows: "2023", "Estimated Coverage Target Population".

    A cell of an upper header row spans the empty cells after it (the
    conversion leaves a merged cell's other cells empty), so a column's name
    is its upper rows' spanning cells plus its own cell in the last row.
    """
    lines = [line.split("\t") for line in header.split("\n") if line.strip()]
    width = max((len(cells) for cells in lines), default=0)
    names = [[] for _ in range(width)]  # type: list[list[str]]
    for depth, cells in enumerate(lines):
        carry = ""
        for j in range(width):
            cell = _clean(cells[j]) if j < len(cells) else ""
            if cell:
                carry = cell
            if depth < len(lines) - 1 and carry:
                names[j].append(cell or carry)
            elif cell:
                names[j].append(cell)
    return [" ".join(dict.fromkeys(parts)) for parts in names]


def _clean(text: str) -> str:
    return _WS.sub(" ", _MARKUP.sub("", text.replace("\t", " | "))).strip(" |")


def _row(text: str, s: int, e: int, offset: int, document: str | None) -> Unit | None:
    """The table row at ``text[s:e]``, with its header, or None for a header, separator or label row."""
    line = text[s:e]
    cells = [c.strip() for c in line.split("\t")]
    if sum(1 for c in cells if c) < 2 or _SEPARATOR.fullmatch(line) or _BOLD_ONLY.fullmatch(line.strip()):
        return None
    source, at = (document, offset + s) if document is not None else (text, s)
    header_lines = _header_lines(source, at)
    if any(start == at for start, _ in header_lines):
        return None  # a header row is not an answer by itself
    a, b = _trim(text, s, e)
    header = "\n".join(source[hs:he] for hs, he in header_lines)
    return Unit(a + offset, b + offset, "table_row", header)


def _header_lines(source: str, at: int) -> list[Span]:
    """The header rows of the table holding the line that starts at ``at`` in ``source``.

    The table is the run of tab-holding lines around it; its header is the
    first line, then each next line with an empty first cell (a second header
    row, "\\t2019\\t2020"), or after a title row whose only cell is the first
    ("Demand Reduction\\t\\t\\t").
    """
    start = at
    while start > 0:
        prev_end = start - 1
        prev_start = source.rfind("\n", 0, prev_end) + 1
        if "\t" not in source[prev_start:prev_end]:
            break
        start = prev_start
    lines: list[Span] = []
    pos = start
    while pos < len(source):
        end = source.find("\n", pos)
        end = len(source) if end < 0 else end
        line = source[pos:end]
        if "\t" not in line:
            break
        cells = line.split("\t")
        if not lines:
            lines.append((pos, end))
        else:
            title_only = sum(1 for c in source[lines[-1][0] : lines[-1][1]].split("\t") if c.strip()) == 1
            if cells[0].strip() and not title_only:
                break
            lines.append((pos, end))
        pos = end + 1
        if len(lines) == 3:
            break
    return lines


def _prose(text: str, start: int, end: int, offset: int) -> list[Unit]:
    """Sentences of ``text[start:end]``, those of one list item joined into one unit."""
    units: list[Unit] = []
    for s, e in split_sentences(text[start:end], start):
        line_start = s == 0 or text[s - 1] == "\n" or text[text.rfind("\n", 0, s) + 1 : s].strip() == ""
        opens_item = line_start and _ITEM.match(text, s) is not None
        if units and units[-1].kind == "list_item" and not opens_item:
            gap = text[units[-1].end - offset : s]
            if not re.search(r"\n\s*\n", gap):
                units[-1] = Unit(units[-1].start, e + offset, "list_item")
                continue
        units.append(Unit(s + offset, e + offset, "list_item" if opens_item else "sentence"))
    out: list[Unit] = []
    for unit in units:
        # A numbered paragraph (HONLAC's "72. Paraguay reported ...") or a long bullet is prose that
        # happens to be numbered: its sentences answer, not the whole paragraph.
        parts = split_sentences(text[unit.start - offset : unit.end - offset], unit.start)
        if unit.kind == "list_item" and len(parts) > MAX_ITEM_SENTENCES and unit.end - unit.start > MAX_ITEM_CHARS:
            out.extend(Unit(a, b, "list_item" if i == 0 else "sentence") for i, (a, b) in enumerate(parts))
        else:
            out.append(unit)
    return out


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_abbreviation(word: str) -> bool:
    w = word.lower()
    return w in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _trimmed(text: str, start: int, end: int, offset: int) -> list[Span]:
    start, end = _trim(text, start, end)
    return [(start + offset, end + offset)] if end > start else []
