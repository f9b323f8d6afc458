"""Page layout to text: words with positions and fonts in, markdown-like paragraphs out.

Pure functions over plain values, so every rule is testable without a PDF.
Rows, running headers and footers, and columns are ``corpus.extract._page``'s;
here, over the rows in reading order:

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

from corpus.extract._page import Line, PageLayout, TableBlock, reading_order, rows_of, running_rows

__all__ = ["layout_pages"]

_LIST_MARKER = re.compile(r"(?:[•◆▪●○■\-–*]|\d{1,2}(?:\.\d{1,2}){0,3}[.)]?|[a-z][.)]|\([a-z0-9]{1,3}\))\s")
_HYPHENATED = re.compile(r"\w+(?:-\w+)+")
_LINKING_WORDS = frozenset({"and", "by", "for", "of", "or", "the", "to"})
_SENTENCE_END = re.compile(r"[.:;!?)\]”\"]$")
_MAX_HEADING_CHARS = 1000  # a longer block in a large font is a pull quote or a cover, not a heading


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
    row_pages = [rows_of(layout.words, p) for p, layout in enumerate(layouts)]
    drop = running_rows(row_pages)
    ordered = [
        reading_order(
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
