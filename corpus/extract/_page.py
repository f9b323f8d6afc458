"""A PDF page's words as rows in reading order: the geometry half of ``corpus.extract._layout``.

Pure functions over plain values, so every rule is testable without a PDF:

* rows: words on one baseline; running headers and footers are the top or
  bottom rows that repeat (digits aside) on many pages, page numbers the
  top or bottom rows holding a number that follows the page count;
* columns: a page is two-column when most rows have a gap at one x near the
  middle; each band of such rows is read left column first, and rows that
  cross the gutter (a title over both columns) stay whole.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Line", "PageLayout", "TableBlock", "Word", "reading_order", "rows_of", "running_rows"]

_PAGE_NUMBER = re.compile(r"(?i)(?:page|p\.|página)?\s*(\d{1,4})(?:\s*(?:of|/|de)\s*\d{1,4})?")
_DIGITS = re.compile(r"\d+")
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


def rows_of(words: Iterable[Word], page: int) -> list[Line]:
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


def running_rows(pages: list[list[Line]]) -> set[tuple[int, int]]:
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


def reading_order(rows: list[Line], tables: Sequence[TableBlock], width: float) -> list[Line | TableBlock]:
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
