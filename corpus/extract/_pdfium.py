"""A PDF page's words, with size, weight and position, read by pdfium (pypdfium2), and whether it has rulings.

pdfium reads a page's characters several times faster than pdfminer, on
which pdfplumber builds: the words come from here, and pdfplumber is opened
only for pages with ruling lines, to find their tables.
"""

from __future__ import annotations

import ctypes
import re

import pypdfium2
import pypdfium2.raw as pdfium_c

from corpus.extract._base import normalize_ligatures
from corpus.extract._page import Word

__all__ = ["has_rulings", "page_words"]

_BOLD_FONT = re.compile(r"(?i)bold|black|heavy|semibold|demi")
_BOLD_WEIGHT = 600
_SPACES = frozenset(" \t\r\n\u00a0\uffff\x00")
# pdfium's marks for a hyphen that breaks a word at a line end: U+0002 one character at a time, U+FFFE in a page's text.
_LINE_END_HYPHENS = frozenset("\x02\ufffe")
_RULINGS = 2  # thin horizontal and vertical path objects that may make a table
_THIN = 2.0  # points: a path object this thin is a rule
_BOX = 12.0  # points: a path object this wide and tall is a box or a whole grid


def _font_name(textpage: ctypes.c_void_p, index: int, buffer: ctypes.Array[ctypes.c_char]) -> str:
    flags = ctypes.c_int()
    n = pdfium_c.FPDFText_GetFontInfo(textpage, index, buffer, len(buffer), ctypes.byref(flags))
    return buffer.raw[: max(0, n - 1)].decode("utf-8", "replace") if n else ""


def _page_text(tp: ctypes.c_void_p, n: int) -> str:
    """The page's ``n`` characters in one call, one string index per character index."""
    buffer = ctypes.create_string_buffer((n + 1) * 2)
    pdfium_c.FPDFText_GetText(tp, 0, n, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    text = buffer.raw[: n * 2].decode("utf-16-le", errors="replace")
    if len(text) == n:
        return text
    # A character outside the BMP took two UTF-16 units: read one character at a time.
    return "".join(chr(c) if (c := pdfium_c.FPDFText_GetUnicode(tp, i)) else " " for i in range(n))


def page_words(page: pypdfium2.PdfPage) -> tuple[Word, ...]:
    """The page's words left to right, top to bottom as drawn (origin top-left, points)."""
    height = page.get_height()
    textpage = page.get_textpage()
    tp = textpage.raw
    rect = pdfium_c.FS_RECTF()
    buffer = ctypes.create_string_buffer(128)
    words: list[Word] = []
    chars: list[str] = []
    box = [0.0, 0.0, 0.0, 0.0]  # x0, top, x1, bottom
    style: tuple[float, bool] | None = None
    last_object = None
    object_style = (0.0, False)

    def flush() -> None:
        if chars and style is not None:
            text = normalize_ligatures("".join(chars))
            words.append(Word(text, box[0], box[2], box[1], box[3], style[0], style[1]))
        chars.clear()

    try:
        text = _page_text(tp, textpage.count_chars())
        for i, ch in enumerate(text):
            if ch in _SPACES:
                flush()
                continue
            if ch in _LINE_END_HYPHENS:
                ch = "-"
            pdfium_c.FPDFText_GetLooseCharBox(tp, i, ctypes.byref(rect))
            x0, x1, top, bottom = rect.left, rect.right, height - rect.top, height - rect.bottom
            obj = pdfium_c.FPDFText_GetTextObject(tp, i)
            address = ctypes.cast(obj, ctypes.c_void_p).value
            if address != last_object:  # size and weight belong to the text object: read once per object
                last_object = address
                size = round(pdfium_c.FPDFText_GetFontSize(tp, i), 2)
                weight = pdfium_c.FPDFText_GetFontWeight(tp, i)
                bold = weight >= _BOLD_WEIGHT or bool(_BOLD_FONT.search(_font_name(tp, i, buffer)))
                object_style = (size, bold)
            this = object_style
            if chars and (
                this != style
                or abs(top - box[1]) > 0.5 * this[0]
                or x0 > box[2] + 0.25 * this[0]
                or x0 < box[0] - this[0]
            ):
                flush()
            if not chars:
                box[:] = [x0, top, x1, bottom]
                style = this
            else:
                box[:] = [min(box[0], x0), min(box[1], top), max(box[2], x1), max(box[3], bottom)]
            chars.append(ch)
        flush()
    finally:
        textpage.close()
    return tuple(words)


def has_rulings(page: pypdfium2.PdfPage) -> bool:
    """Whether the page draws what a ruled table is made of: crossing rules, or a box or grid path.

    A page with only horizontal rules (a header's underline) has no table;
    pdfplumber then need not parse it.
    """
    horizontal = vertical = 0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        width, height = right - left, top - bottom
        if width > _BOX and height > _BOX:
            return True
        horizontal += height <= _THIN < width
        vertical += width <= _THIN < height
        if horizontal >= _RULINGS and vertical >= _RULINGS:
            return True
    return False
