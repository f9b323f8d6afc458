"""HTML with the standard library's parser: headings, paragraphs, list items and table rows.

``<h1>``-``<h6>`` become ``#`` lines, ``<li>`` ``-`` items, ``<tr>`` tab-separated
rows (``<th>`` rows first, as written); ``<script>``, ``<style>``, ``<nav>`` and
``<noscript>`` are dropped. ``<title>`` and the author/date ``<meta>`` tags give
the metadata.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from core.errors import ExtractionError
from corpus.extract._base import Extracted, check_enough_text, normalize_ligatures
from corpus.extract._meta import date_in

__all__ = ["extract_html"]

_SKIP = frozenset({"script", "style", "nav", "noscript", "template", "svg"})
_BLOCK = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "ul",
        "ol",
        "table",
        "dl",
        "dt",
        "dd",
        "figure",
        "figcaption",
        "pre",
        "address",
        "body",
        "form",
        "hr",
    }
)
_AUTHOR_META = ("author", "dc.creator", "dcterms.creator", "article:author", "publisher", "dc.publisher")
_DATE_META = ("date", "dc.date", "dcterms.date", "article:published_time", "citation_date", "dcterms.issued")
_FRONT_MATTER = 2000


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.prefix = ""
        self.skip = 0
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.rows: list[str] = []
        self.in_title = False
        self.title = ""
        self.meta: dict[str, str] = {}

    def _flush(self) -> None:
        text = " ".join(normalize_ligatures("".join(self.current)).split())
        if text:
            self.blocks.append(self.prefix + text)
        self.current, self.prefix = [], ""

    def _flush_table(self) -> None:
        if self.rows:
            self.blocks.append("\n".join(self.rows))
            self.rows = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "meta":
            a = {k.lower(): (v or "") for k, v in attrs}
            name = (a.get("name") or a.get("property") or "").lower()
            if name and a.get("content"):
                self.meta.setdefault(name, a["content"].strip())
        elif self.skip:
            return
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._flush()
            self.prefix = "#" * int(tag[1]) + " "
        elif tag == "li":
            self._flush()
            self.prefix = "- "
        elif tag == "tr":
            self._flush()
            self.row = []
        elif tag in {"td", "th"} and self.row is not None:
            self.cell = []
        elif tag == "br":
            self.current.append(" ")
        elif tag in _BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self.in_title = False
        elif self.skip:
            return
        elif tag in {"td", "th"} and self.row is not None and self.cell is not None:
            self.row.append(" ".join(normalize_ligatures("".join(self.cell)).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if any(self.row):
                self.rows.append("\t".join(self.row))
            self.row = None
        elif tag == "table":
            self._flush_table()
        elif tag in _BLOCK or tag in {"h1", "h2", "h3", "h4", "h5", "h6", "li"}:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif self.skip:
            return
        elif self.cell is not None:
            self.cell.append(data)
        elif self.row is None:
            self.current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()
        self._flush_table()


def _read(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExtractionError(f"{path.name}: the page's text encoding cannot be read")


def extract_html(path: Path) -> Extracted:
    """A web page's text with its headings, lists and tables."""
    reader = _Reader()
    reader.feed(_read(path))
    reader.close()
    text = "\n\n".join(reader.blocks) + "\n"
    check_enough_text(text, path.name)
    meta = reader.meta
    title = " ".join(reader.title.split()) or next(
        (b.lstrip("#").strip() for b in reader.blocks if b.startswith("#")), None
    )
    return Extracted(
        text=text,
        pages=(),
        format="html",
        title=title,
        publisher=next((meta[k] for k in _AUTHOR_META if meta.get(k)), None),
        date=next((date_in(meta[k]) or meta[k][:10] for k in _DATE_META if meta.get(k)), None)
        or date_in(text[:_FRONT_MATTER]),
    )
