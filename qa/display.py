"""A passage or an answer as a person reads it: the conversion's line breaks and markers out, the words untouched.

The corpus files come from PDF and HTML conversions. A page break in the
middle of a sentence leaves it cut by blank lines ("... the Rights of the
Child,\\n\\n\\n\\nwhich complement the Palermo Convention"), and markdown
markers stand around words ("(*Centros de Integración Juvenil, A.C. -
CIJ*)", "#### **Objective 4**"). ``display_passage`` joins what a break
cut mid-sentence and drops the markers, for the page, chat replies and API
clients that show text; ``display_text`` does the same for an answer, on one
line, a table row read with its header. The verbatim ``text`` and its span stay what they
are: citations quote the file, never this.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.types import Answer
from index.sentences import table_columns

__all__ = ["display_passage", "display_text", "page_note"]

# Bold/italic markers, HTML tags and heading hashes; an asterisk counts as a marker only at a
# word's edge, so "5 * 3" or a footnote's lone "*" in a table cell stays.
_MARKUP = re.compile(r"\*\*|__|</?[a-zA-Z][^>]*>|(?<![\w*])\*(?=[\w(])|(?<=[\w.),;:])\*(?![\w*])")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
# A break inside a sentence: the text before it ends without closing punctuation (a word, a comma)
# and the text after it opens in lower case ("Children,\n\n\nwhich complement").
_MID_SENTENCE = re.compile(r"(?<=[\w,;\-–])[ \t]*\n(?:[ \t]*\n)*[ \t]*(?=[a-z(])")
# ... or it ends with a word no sentence or heading ends with ("the rejection of\n\nU.S. extradition requests").
_OPEN_END = re.compile(
    r"\b(of|the|a|an|and|or|to|in|on|for|with|by|from|at|as|that|which|its|their|between)"
    r"[ \t]*\n(?:[ \t]*\n)*[ \t]*(?=\S)"
)
_TRAILING = re.compile(r"[ \t]+\n")
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){2,}")


def display_passage(text: str) -> str:
    """``text`` without markdown markers, lines a break cut mid-sentence joined, blank runs cut to one line.

    List items, table rows (tab-separated cells) and paragraphs keep their
    own lines: only a break followed by a lower-case continuation is joined.
    """
    out = _HEADING.sub("", text)
    out = _MARKUP.sub("", out)
    out = _TRAILING.sub("\n", out)
    out = _MID_SENTENCE.sub(" ", out)
    out = _OPEN_END.sub(r"\1 ", out)
    out = _BLANK_RUN.sub("\n\n", out)
    return out.strip()


def page_note(pages: Sequence[int] | None) -> str:
    """ ", p. 12" or ", pp. 12-13", as it follows a label in a memo; nothing for a report without pages."""
    if not pages:
        return ""
    return f", p. {pages[0]}" if pages[0] == pages[1] else f", pp. {pages[0]}-{pages[1]}"


def display_text(answer: Answer) -> str:
    """The answer as a person reads it: no markdown or HTML markers, one line.

    A table row reads as its first cell, then the cell the question named
    ("Security and Citizen Protection — Annual budget amount (U.S. Dollars) 2023:
    5,864,298,531"), or every "column: value" pair. ``answer.text`` stays the
    verbatim span; this is for chat replies and the page.
    """

    def clean(text: str) -> str:
        return " ".join(_MARKUP.sub("", text).split())

    if answer.kind != "table_row" or not answer.header:
        return clean(answer.text)
    cells = [clean(c) for c in answer.text.split("\t")]
    if answer.cell is not None:
        return f"{cells[0]} — {clean(answer.cell[0])}: {clean(answer.cell[1])}"
    columns = table_columns(answer.header)
    pairs = [f"{columns[j] or '?'}: {cells[j]}" for j in range(1, min(len(columns), len(cells))) if cells[j]]
    return f"{cells[0]} — " + "; ".join(pairs) if pairs else clean(answer.text)
