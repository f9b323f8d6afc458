"""Page layout to text: words with positions and fonts in, markdown-like paragraphs out.

Pure functions over plain values, so every rule is testable without a PDF:

* rows: words on one baseline; running headers and footers are the top or
  bottom rows that repeat (digits aside) on many pages, page numbers the
  top or bottom rows holding a number that follows the page count;
* columns: a page is two-column when most rows have a gap at one x near the
  middle; each band of such rows is read left column first, and rows that
  cross the gutter (a title over both columns) stay whole;
* paragraphs: lines join until a vertical gap wider than the document's
  line spacing, a change of font size or weight, or a table; a line that
  opens with a list marker starts a line of its own. A word hyphenated at a
  line end is joined, and keeps its hyphen only when the document writes it
  with one elsewhere ("anti-drug");
* headings: a paragraph set larger than the body text is a ``#`` heading
  (the largest size ``#``, the next ``##``, ...); an all-bold paragraph at
  body size is a ``**bold**`` line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

__all__ = ["Line", "PageLayout", "TableBlock", "Word", "layout_pages"]

_LIST_MARKER = re.compile(r"(?:[•◆▪●○■\-–*]|\d{1,2}(?:\.\d{1,2}){0,3}[.)]?|[a-z][.)]|\([a-z0-9]{1,3}\))\s")
_PAGE_NUMBER = re.compile(r"(?i)(?:page|p\.|página)?\s*(\d{1,4})(?:\s*(?:of|/|de)\s*\d{1,4})?")
_HYPHENATED = re.compile(r"\w+(?:-\w+)+")
_LINKING_WORDS = frozenset({"and", "by", "for", "of", "or", "the", "to"})
_SENTENCE_END = re.compile(r"[.:;!?)\]”\"]$")
_DIGITS = re.compile(r"\d+")
_MAX_HEADING_CHARS = 1000  # a longer block in a large font is a pull quote or a cover, not a heading
_MARGIN_ROWS = 2  # rows at a page's top and bottom that may be running headers or footers


@dataclass(frozen=True, slots=True)
class Word:
    """One word as the PDF draws it (points, origin top-left)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool


@dataclass(frozen=True, slots=True)
class TableBlock:
    """A table found on a page: its box and its rows of cell texts (the first row is the header)."""

    x0: float
    x1: float
    top: float
    bottom: float
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class PageLayout:
    """What a page holds: its size, its words (tables' words excluded) and its tables."""

    width: float
    height: float
    words: tuple[Word, ...]
    tables: tuple[TableBlock, ...] = ()


@dataclass
class Line:
    """Words of one row of one column, left to right."""

    words: list[Word]
    page: int = 0
    top: float = field(init=False)
    bottom: float = field(init=False)
    x0: float = field(init=False)
    x1: float = field(init=False)

    def __post_init__(self) -> None:
        self.words.sort(key=lambda w: w.x0)
        self.top = min(w.top for w in self.words)
        self.bottom = max(w.bottom for w in self.words)
        self.x0 = min(w.x0 for w in self.words)
        self.x1 = max(w.x1 for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def size(self) -> float:
        return Counter(round(w.size * 2) / 2 for w in self.words).most_common(1)[0][0]

    @property
    def bold(self) -> bool:
        return all(w.bold for w in self.words)


# -- rows, headers and footers ------------------------------------------------


def _rows(words: Iterable[Word], page: int) -> list[Line]:
    """Words grouped by baseline, top to bottom (both columns of a row together)."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        # Tops a third of a line apart are two rows: two columns' baselines drift apart by less than a line.
        if rows and w.top - rows[-1][-1].top <= 0.3 * min(w.size, rows[-1][-1].size):
            rows[-1].append(w)
        else:
            rows.append([w])
    return [Line(r, page) for r in rows]


def _margin_key(row: Line) -> str:
    return _DIGITS.sub("#", " ".join(row.text.lower().split()))


def _apart(upper: Line, lower: Line) -> bool:
    """Whether a margin's white space separates two rows (more than a line's height)."""
    return lower.top - upper.bottom > max(upper.size, lower.size)


def _top_band(rows: list[Line]) -> range:
    """The rows above the first wide gap, if it comes within the page's first ``_MARGIN_ROWS`` rows."""
    for i in range(min(_MARGIN_ROWS, len(rows) - 1)):
        if _apart(rows[i], rows[i + 1]):
            return range(i + 1)
    return range(0)


def _bottom_band(rows: list[Line]) -> range:
    """The rows below the last wide gap, if it comes within the page's last ``_MARGIN_ROWS`` rows."""
    for i in range(len(rows) - 1, max(0, len(rows) - 1 - _MARGIN_ROWS), -1):
        if _apart(rows[i - 1], rows[i]):
            return range(i, len(rows))
    return range(0)


def _running_rows(pages: list[list[Line]]) -> set[tuple[int, int]]:
    """(page index, row index) of running headers, footers and page numbers."""
    n = len(pages)
    candidates: list[tuple[int, int, str]] = []  # page, row, band + key
    for p, rows in enumerate(pages):
        for band, indexes in (("top", _top_band(rows)), ("bottom", _bottom_band(rows))):
            candidates.extend((p, i, f"{band}:{_margin_key(rows[i])}") for i in indexes)
    pages_with = Counter()
    for key in {(p, k) for p, _, k in candidates}:
        pages_with[key[1]] += 1
    needed = max(2, (n + 1) // 2)
    drop = {(p, i) for p, i, k in candidates if n >= 2 and pages_with[k] >= needed}

    # Page numbers: a lone number whose value minus the page index is the same on several pages.
    offsets: dict[tuple[int, int], int] = {}
    for p, i, _ in candidates:
        m = _PAGE_NUMBER.fullmatch(pages[p][i].text.strip())
        if m:
            offsets[(p, i)] = int(m.group(1)) - p
    common = Counter(offsets.values()).most_common(1)
    if common and (common[0][1] >= 2 or (n == 1 and common[0][0] in (0, 1))):
        drop |= {key for key, offset in offsets.items() if offset == common[0][0]}
    return drop


# -- columns ------------------------------------------------------------------


def _gutter(rows: list[Line], width: float) -> float | None:
    """The x of a two-column page's gutter, or None for a one-column page.

    The gutter is the x near the page's middle that the fewest rows cross;
    the page has two columns when almost no row crosses it and many rows
    have words on each side of it. (The columns' baselines drift apart, so
    rows with words on both sides at once are not required.)
    """
    if len(rows) < 6:
        return None
    best, best_crossing = None, len(rows) + 1
    x = width * 0.35
    while x <= width * 0.65:
        crossing = sum(any(w.x0 < x + 2 and w.x1 > x - 2 for w in row.words) for row in rows)
        if crossing < best_crossing:
            best, best_crossing = x, crossing
        x += 2.0
    if best is None or best_crossing > 0.1 * len(rows):
        return None
    left = sum(any(w.x1 <= best and w.x1 > best - 0.15 * width for w in row.words) for row in rows)
    right = sum(any(w.x0 >= best for w in row.words) for row in rows)
    return best if min(left, right) >= 0.3 * len(rows) else None


def _reading_order(rows: list[Line], tables: Sequence[TableBlock], width: float) -> list[Line | TableBlock]:
    """Lines and tables of a page in reading order: one column, or each band left column first."""
    gutter = _gutter(rows, width)
    items: list[tuple[float, Line | TableBlock]] = [(r.top, r) for r in rows] + [(t.top, t) for t in tables]
    items.sort(key=lambda item: item[0])
    if gutter is None:
        return [item for _, item in items]
    out: list[Line | TableBlock] = []
    left: list[Line | TableBlock] = []
    right: list[Line | TableBlock] = []

    def flush() -> None:
        out.extend(left)
        out.extend(right)
        left.clear()
        right.clear()

    for _, item in items:
        if isinstance(item, TableBlock):
            if item.x1 <= gutter + 3:
                left.append(item)
            elif item.x0 >= gutter - 3:
                right.append(item)
            else:
                flush()
                out.append(item)
            continue
        if any(w.x0 < gutter - 3 and w.x1 > gutter + 3 for w in item.words):
            flush()
            out.append(item)
            continue
        lw = [w for w in item.words if w.x1 <= gutter + 3]
        rw = [w for w in item.words if w.x1 > gutter + 3]
        if lw:
            left.append(Line(lw, item.page))
        if rw:
            right.append(Line(rw, item.page))
    flush()
    return out


# -- paragraphs -----------------------------------------------------------------


@dataclass
class _Block:
    lines: list[Line] = field(default_factory=list)
    table: TableBlock | None = None
    page: int = 0


def _body_size(pages: list[list[Line | TableBlock]]) -> float:
    sizes: Counter[float] = Counter()
    for items in pages:
        for item in items:
            if isinstance(item, Line):
                for w in item.words:
                    sizes[round(w.size * 2) / 2] += len(w.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _line_gap(pages: list[list[Line | TableBlock]], body: float) -> float:
    """The usual gap between two lines of one body paragraph (the median of body-size gaps)."""
    gaps = []
    for items in pages:
        for a, b in pairwise(items):
            if isinstance(a, Line) and isinstance(b, Line) and a.size == body == b.size and b.top > a.top:
                gaps.append(b.top - a.bottom)
    return median(gaps) if gaps else 0.2 * body


def _continues(prev: Line, line: Line, body: float, gap: float) -> bool:
    """Whether ``line`` goes on the paragraph that ``prev`` ends."""
    if abs(prev.size - line.size) > 0.5:
        return False
    if line.top <= prev.top:  # next column or next page: only a sentence or a heading cut mid-way goes on
        cut = line.text[:1].islower() or prev.text[-1:] in ",-—" or (line.size > body + 0.5 and prev.bold == line.bold)
        return cut and not _SENTENCE_END.search(prev.text)
    # The body's line gap, scaled to this line's size: a heading's lines are further apart.
    return line.top - prev.bottom <= (gap / body + 0.4) * line.size


def _blocks(pages: list[list[Line | TableBlock]], body: float) -> list[_Block]:
    gap = _line_gap(pages, body)
    blocks: list[_Block] = []
    for p, items in enumerate(pages):
        for item in items:
            if isinstance(item, TableBlock):
                blocks.append(_Block(table=item, page=p))
            elif blocks and blocks[-1].lines and _continues(blocks[-1].lines[-1], item, body, gap):
                blocks[-1].lines.append(item)
            else:
                blocks.append(_Block([item], page=p))
    return blocks


def _hyphenated_words(blocks: list[_Block]) -> set[str]:
    """Hyphenated words written inside a line somewhere: they keep their hyphen at a line end too."""
    found: set[str] = set()
    for block in blocks:
        for line in block.lines:
            found.update(m.group(0).lower() for m in _HYPHENATED.finditer(line.text))
    return found


def _join(lines: list[Line], keep: set[str], mark_bold: bool) -> tuple[str, list[tuple[int, int]]]:
    """Lines as one paragraph, and (offset, page) where each page's part of it starts.

    Hyphenated line ends are joined; list items stay on lines of their own;
    with ``mark_bold``, runs of bold words are written ``**like this**``.
    """
    tokens: list[tuple[str, str, bool, int]] = []  # separator before, text, bold, page
    for line in lines:
        for i, w in enumerate(line.words):
            sep = " " if tokens else ""
            if i == 0 and tokens:
                prev = tokens[-1][1]
                head = re.search(r"(\w+)-$", prev)
                tail = re.match(r"\w+", w.text)
                if _LIST_MARKER.match(line.text):
                    sep = "\n"
                elif head and tail:
                    sep = ""  # "anti-" + "drug": one word, with or without its hyphen
                    rest = re.match(r"[\w-]*\w", w.text).group(0)
                    word = re.search(r"[\w-]+$", prev).group(0) + rest  # "anti-drug", "on-the-job"
                    split = w.text[0].islower() or (head.group(1).isupper() and tail.group(0).isupper())
                    # "face-to-" + "face" is a compound cut at its own hyphen: it stays.
                    compound = "-" in word[: -len(rest) - 1] and head.group(1).lower() in _LINKING_WORDS
                    if split and not compound and word.lower() not in keep:
                        tokens[-1] = (tokens[-1][0], prev[:-1], tokens[-1][2], tokens[-1][3])
            tokens.append((sep, w.text, w.bold, line.page))
    out: list[str] = []
    marks: list[tuple[int, int]] = []
    size = 0
    bold = False
    for sep, text, is_bold, page in tokens:
        if bold and (not is_bold or sep == "\n"):
            out.append("**")
            size += 2
            bold = False
        out.append(sep)
        size += len(sep)
        if not marks or marks[-1][1] != page:
            marks.append((size, page))
        if mark_bold and is_bold and not bold:
            out.append("**")
            size += 2
            bold = True
        out.append(text)
        size += len(text)
    if bold:
        out.append("**")
    return "".join(out), marks


def _render(block: _Block, levels: dict[float, int], keep: set[str]) -> tuple[str, list[tuple[int, int]]]:
    """A block's text and where its pages start in it (a heading or table counts on its first page)."""
    if block.table is not None:
        return "\n".join("\t".join(cell for cell in row) for row in block.table.rows), [(0, block.page)]
    all_bold = all(line.bold for line in block.lines)
    text, marks = _join(block.lines, keep, mark_bold=not all_bold)
    size = block.lines[0].size
    if size in levels and len(text) <= _MAX_HEADING_CHARS:
        return "#" * levels[size] + " " + " ".join(text.replace("**", "").split()), [(0, block.page)]
    if all_bold:
        return "\n".join(f"**{part}**" for part in text.split("\n")), [(0, block.page)]
    return text, marks


def layout_pages(layouts: Sequence[PageLayout]) -> tuple[str, list[tuple[int, int]]]:
    """The text of a document's pages and each page's ``[start, end)`` in it (contiguous, covering it all)."""
    row_pages = [_rows(layout.words, p) for p, layout in enumerate(layouts)]
    drop = _running_rows(row_pages)
    ordered = [
        _reading_order(
            [row for i, row in enumerate(rows) if (p, i) not in drop],
            layouts[p].tables,
            layouts[p].width,
        )
        for p, rows in enumerate(row_pages)
    ]
    body = _body_size(ordered)
    larger = sorted(
        {line.size for items in ordered for line in items if isinstance(line, Line) and line.size > body + 0.5},
        reverse=True,
    )
    levels = {size: min(i + 1, 6) for i, size in enumerate(larger)}
    blocks = _blocks(ordered, body)
    keep = _hyphenated_words(blocks)

    parts: list[str] = []
    page_starts: dict[int, int] = {}
    pos = 0
    for block in blocks:
        piece, marks = _render(block, levels, keep)
        if parts:
            parts.append("\n\n")
            pos += 2
        for offset, page in marks:
            page_starts.setdefault(page, pos + offset)
        parts.append(piece)
        pos += len(piece)
    text = "".join(parts) + "\n"
    starts = [0]
    for p in range(1, len(layouts)):
        starts.append(max(page_starts.get(p, starts[-1]), starts[-1]))
    ends = [*starts[1:], len(text)]
    return text, list(zip(starts, ends, strict=True))
