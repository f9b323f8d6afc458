"""Render a report's corpus text to a PDF laid out as a published report, for extraction tests.

The layout has what makes PDF extraction hard: a running header and a page
number footer on every page, justified text hyphenated at line ends (pyphen,
through reportlab), headings set larger and bold (``#`` lines) or bold at
body size (``**bold**`` lines), tables drawn as ruled tables with their
header row, and, with ``columns=2``, two columns. Rendering is deterministic
(reportlab's invariant mode: no timestamps or random ids), so the same text
gives the same bytes.

Run as a script to write the five bundled reports' PDFs to a directory:
``python -m tests.pdf_fixtures out/``.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from core.types import ParsedDocument
from corpus.extract import Extracted

__all__ = [
    "TWO_COLUMN_REPORT",
    "Fidelity",
    "measure",
    "outline_headings",
    "render_pdf",
    "render_report",
    "render_report_chromium",
    "section_ids",
]

TWO_COLUMN_REPORT = "unodc-honlac-29-2019"
"""The bundled report rendered in two columns."""

_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_BODY_SIZE = 10.0
_HEADING_SIZES = (18.0, 16.0, 14.0, 13.0, 12.0, 11.5)
_HEADING = re.compile(r"#{1,6}[ \t]+")
_ITEM = re.compile(r"[ \t]*(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[-•◆*])[ \t]+\S")
_BOLD_RUN = re.compile(r"\*{2,3}(.+?)\*{2,3}")
_WHOLE_BOLD = re.compile(r"\*{2,3}([^*].*?)\*{2,3}[ \t]*")
_FUSED_BOLD = re.compile(r"(?<=\*\*)(?=\*\*[^*])")
# A short label line ("Actions") after a finished sentence: a paragraph of its own, not a wrapped line.
_LABEL = re.compile(r"[A-Z]\w*(?: \w+){0,2}")
_BLANK = re.compile(r"\n[ \t\u00a0]*\n")


@cache
def _fonts() -> str:
    """Register DejaVu Sans (it has the reports' quotes, dashes, superscripts and bullets)."""
    pdfmetrics.registerFont(TTFont("DejaVu", str(_FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(_FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        "DejaVu", normal="DejaVu", bold="DejaVu-Bold", italic="DejaVu", boldItalic="DejaVu-Bold"
    )
    return "DejaVu"


def _styles() -> dict[str, ParagraphStyle]:
    font = _fonts()
    body = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=_BODY_SIZE,
        leading=_BODY_SIZE * 1.25,
        alignment=TA_JUSTIFY,
        spaceAfter=7,
        hyphenationLang="en_US",
        embeddedHyphenation=1,
        uriWasteReduce=0.3,
    )
    out = {"body": body, "bold": ParagraphStyle("bold", parent=body, fontName=f"{font}-Bold")}
    out["cell"] = ParagraphStyle(
        "cell", parent=body, fontSize=7, leading=8.5, alignment=TA_LEFT, spaceAfter=0, hyphenationLang=""
    )
    for level, size in enumerate(_HEADING_SIZES, start=1):
        out[f"h{level}"] = ParagraphStyle(
            f"h{level}",
            parent=body,
            fontName=f"{font}-Bold",
            fontSize=size,
            leading=size * 1.2,
            alignment=TA_LEFT,
            spaceBefore=6,
            spaceAfter=8,
            hyphenationLang="",
        )
    return out


def _inline(text: str) -> str:
    """Escaped paragraph markup: ``**bold**`` runs as <b>, stray asterisks kept as text."""
    return _BOLD_RUN.sub(lambda m: f"<b>{m.group(1)}</b>", escape(text))


def _segments(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A text block's paragraphs with their offsets: a list item, label or fused bold run starts a new one."""
    out: list[tuple[int, str]] = []
    for offset, raw in lines:
        line = raw.strip()
        offset += len(raw) - len(raw.lstrip())
        label = _LABEL.fullmatch(line) and out and out[-1][1][-1:] in ".:;"
        if not out or _ITEM.match(line) or _HEADING.match(line) or label:
            out.append((offset, line))
        elif out[-1][1].endswith("-"):
            out[-1] = (out[-1][0], out[-1][1] + line)  # "anti-\ndrug" as the text wraps it: the word keeps its hyphen
        else:
            out[-1] = (out[-1][0], out[-1][1] + " " + line)
    parts: list[tuple[int, str]] = []
    for offset, seg in out:
        pos = 0
        for part in _FUSED_BOLD.split(seg):
            if part.strip():
                parts.append((offset + pos, part))
            pos += len(part)
    return parts


def _text_blocks(text: str) -> list[list[tuple[int, str]]]:
    """The text's blocks (runs of non-blank lines), each line with its offset."""
    blocks: list[list[tuple[int, str]]] = [[]]
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            blocks[-1].append((pos, line))
        elif blocks[-1]:
            blocks.append([])
        pos += len(line) + 1
    return [b for b in blocks if b]


def _table(block: str, styles: dict[str, ParagraphStyle], width: float) -> Table:
    rows = [line.split("\t") for line in block.split("\n") if line.strip()]
    n = max(len(r) for r in rows)
    cells = [[Paragraph(_inline(c.strip()), styles["cell"]) for c in r + [""] * (n - len(r))] for r in rows]
    table = Table(cells, colWidths=[width / n] * n, repeatRows=0)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _heading_level(offset: int, headings: dict[tuple[int, int], int]) -> int | None:
    """The outline depth of the section whose heading holds ``offset`` (None: not a heading)."""
    for (start, end), depth in headings.items():
        if start - 2 <= offset < end:  # a fused heading's part starts at its "**"
            return depth
    return None


def _flowables(
    text: str, styles: dict[str, ParagraphStyle], width: float, headings: dict[tuple[int, int], int]
) -> list[Flowable]:
    out: list[Flowable] = []
    for lines in _text_blocks(text):
        if sum("\t" in line for _, line in lines) * 2 > len(lines):
            out.append(_table("\n".join(line for _, line in lines), styles, width))
            continue
        for offset, seg in _segments(lines):
            depth = _heading_level(offset, headings)
            if m := _HEADING.match(seg):
                level = min(len(m.group(0).strip()), 6)
                out.append(
                    Paragraph(_inline(seg[m.end() :]).replace("<b>", "").replace("</b>", ""), styles[f"h{level}"])
                )
            elif depth is not None and not seg.startswith("- "):
                plain = _inline(seg).replace("<b>", "").replace("</b>", "")
                out.append(Paragraph(plain, styles[f"h{min(depth + 1, 6)}"]))
            elif m := _WHOLE_BOLD.fullmatch(seg):
                out.append(Paragraph(escape(m.group(1)), styles["bold"]))
            else:
                out.append(Paragraph(_inline(seg), styles["body"]))
    return out


def outline_headings(text: str, scheme: str, document_id: str) -> dict[tuple[int, int], int]:
    """Each section heading's span in ``text`` and the section's depth, from the report's own scheme."""
    from dataclasses import replace

    from corpus import load_catalog
    from corpus._schemes import get_parser
    from corpus._tree import freeze

    document = replace(next(d for d in load_catalog() if d.id == document_id), scheme=scheme)
    found: dict[tuple[int, int], int] = {}

    def walk(sections, depth: int) -> None:
        for s in sections:
            if s.heading:
                found[s.heading] = depth
            walk(s.children, depth + 1)

    walk(freeze(document.id, get_parser(scheme)(text, document)), 1)
    return found


def render_pdf(
    text: str,
    out: Path,
    *,
    header: str,
    title: str = "",
    author: str = "",
    columns: int = 1,
    headings: dict[tuple[int, int], int] | None = None,
) -> Path:
    """Write ``text`` (corpus markup) to ``out`` as a PDF with a running header and page-number footer.

    ``#`` lines are set as headings by their level, ``**bold**`` lines in bold;
    ``headings`` (span -> outline depth) names more heading lines, set as
    headings of their depth, as a published report sets them.
    """
    styles = _styles()
    margin = 2 * cm
    page_w, page_h = A4
    frame_w = page_w - 2 * margin
    gap = 0.8 * cm
    if columns == 2:
        col_w = (frame_w - gap) / 2
        frames = [
            Frame(margin, margin, col_w, page_h - 2 * margin, id="left"),
            Frame(margin + col_w + gap, margin, col_w, page_h - 2 * margin, id="right"),
        ]
    else:
        col_w = frame_w
        frames = [Frame(margin, margin, frame_w, page_h - 2 * margin, id="body")]

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(_fonts(), 8)
        canvas.drawString(margin, page_h - 1.2 * cm, header)
        canvas.drawRightString(page_w - margin, page_h - 1.2 * cm, "Rendered for testing")
        canvas.drawCentredString(page_w / 2, 1.1 * cm, str(doc.page))
        canvas.restoreState()

    doc = BaseDocTemplate(
        str(out),
        pagesize=A4,
        title=title,
        author=author,
        invariant=1,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=frames, onPage=decorate)])
    doc.build(_flowables(text, styles, col_w, headings or {}))
    return out


def render_report(document_id: str, out_dir: Path, corpus_dir: Path | None = None) -> Path:
    """Render one catalog report to ``out_dir/<id>.pdf`` (two columns for ``TWO_COLUMN_REPORT``)."""
    from corpus import CORPUS_DIR, load_catalog, read_text

    corpus_dir = corpus_dir or CORPUS_DIR
    document = next(d for d in load_catalog(corpus_dir) if d.id == document_id)
    text = read_text(document, corpus_dir)
    return render_pdf(
        text,
        out_dir / f"{document.id}.pdf",
        header=document.short_title,
        title=document.title,
        author=document.publisher,
        columns=2 if document.id == TWO_COLUMN_REPORT else 1,
        headings=outline_headings(text, document.scheme, document.id),
    )


def _html(text: str, headings: dict[tuple[int, int], int], title: str, columns: int) -> str:
    """The report as an HTML page with the same markup rules as :func:`render_pdf`."""
    from html import escape as esc

    def inline(t: str) -> str:
        return _BOLD_RUN.sub(r"<b>\1</b>", esc(t))

    out: list[str] = []
    for lines in _text_blocks(text):
        if sum("\t" in line for _, line in lines) * 2 > len(lines):
            rows = ("".join(f"<td>{inline(c)}</td>" for c in line.split("\t")) for _, line in lines)
            out.append("<table>" + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>")
            continue
        for offset, seg in _segments(lines):
            depth = _heading_level(offset, headings)
            if m := _HEADING.match(seg):
                n = min(len(m.group(0).strip()), 6)
                out.append(f"<h{n}>{esc(seg[m.end() :].replace('*', ''))}</h{n}>")
            elif depth is not None and not seg.startswith("- "):
                n = min(depth + 1, 6)
                out.append(f"<h{n}>{esc(seg.replace('*', ''))}</h{n}>")
            else:
                out.append(f"<p>{inline(seg)}</p>")
    cols = "column-count:2;column-gap:1cm;" if columns == 2 else ""
    sizes = "".join(f"h{i}{{font-size:{size}pt}}" for i, size in enumerate(_HEADING_SIZES, start=1))
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title><style>"
        "@page{size:A4;margin:2cm} body{font-family:'DejaVu Sans';font-size:10pt;text-align:justify;"
        f"hyphens:auto;{cols}}} {sizes} table{{border-collapse:collapse;font-size:7pt}}"
        "td{border:0.5pt solid black;vertical-align:top}</style></head><body>" + "".join(out) + "</body></html>"
    )


def render_report_chromium(document_id: str, out_dir: Path) -> Path:
    """Render one catalog report with Chromium's print to PDF: a second, independent PDF writer.

    Chromium adds its own running header (date, title) and footer (file URL,
    "1/42"); it does not hyphenate offline (no dictionaries). Needs Debian's
    ``chromium`` (``make browser``).
    """
    import subprocess

    from corpus import load_catalog, read_text

    document = next(d for d in load_catalog() if d.id == document_id)
    text = read_text(document)
    page = out_dir / f"{document.id}.html"
    columns = 2 if document.id == TWO_COLUMN_REPORT else 1
    page.write_text(_html(text, outline_headings(text, document.scheme, document.id), document.short_title, columns))
    pdf = out_dir / f"{document.id}.pdf"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True,
        timeout=180,
        check=True,
    )
    return pdf


def section_ids(sections) -> list[str]:
    """Every section id of an outline, depth first."""
    return [i for s in sections for i in (s.id, *section_ids(s.children))]


@dataclass(frozen=True)
class Fidelity:
    """How much of a report's outline survives the trip text -> PDF -> extracted text."""

    document_id: str
    expected: int  # section ids the .txt gives
    recovered: int  # of them, found in the outline of the extracted text
    extra: int  # ids the extracted outline has and the .txt does not
    pages: int
    in_order: float  # share of the extracted text's 5-word runs that the .txt has too (reading order, joins)
    seconds: float  # extraction time (noisy on a shared machine)
    extracted: Extracted
    parsed: ParsedDocument

    @property
    def ratio(self) -> float:
        return self.recovered / self.expected


def measure(document_id: str, pdf: Path) -> Fidelity:
    """Extract ``pdf``, parse it with the report's own scheme and compare its section ids with the .txt's."""
    from corpus import load_catalog, parse_document, read_text
    from corpus._schemes import get_parser
    from corpus._tree import freeze
    from corpus.extract import extract

    document = next(d for d in load_catalog() if d.id == document_id)
    expected = set(section_ids(parse_document(document).sections))
    start = time.perf_counter()
    extracted = extract(pdf)
    seconds = time.perf_counter() - start
    parsed = ParsedDocument(
        document, extracted.text, freeze(document.id, get_parser(document.scheme)(extracted.text, document))
    )
    got = set(section_ids(parsed.sections))
    source = set(_five_grams(read_text(document)))
    runs = _five_grams(extracted.text)
    in_order = sum(g in source for g in runs) / max(1, len(runs))
    return Fidelity(
        document_id,
        len(expected),
        len(expected & got),
        len(got - expected),
        len(extracted.pages),
        in_order,
        seconds,
        extracted,
        parsed,
    )


_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_LINE_HYPHEN = re.compile(r"-\s*\n\s*")


def _five_grams(text: str) -> list[tuple[str, ...]]:
    """Runs of five words, markup, punctuation and hyphens aside ("anti-drug" and "antidrug" alike)."""
    words = _NOT_WORD.sub(" ", _LINE_HYPHEN.sub("", text.lower()).replace("-", "")).split()
    return [tuple(words[i : i + 5]) for i in range(len(words) - 4)]


if __name__ == "__main__":
    from corpus import load_catalog

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "pdf-out")
    target.mkdir(parents=True, exist_ok=True)
    for d in load_catalog():
        print(render_report(d.id, target))
