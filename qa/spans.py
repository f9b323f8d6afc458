"""From the chosen answer unit to what the answer quotes: its span, and the table cell the question names."""

from __future__ import annotations

import re

from index.lexical import UNITS
from index.sentences import Unit, table_columns

__all__ = ["named_cell", "widen_span"]

# A unit that opens with one of these leans on the one before it: it
# refers back ("This", "Such") or qualifies it ("However"). Additive openers
# ("In addition", "Also") do not: their sentence stands alone.
_CONTINUES = re.compile(
    r"^(?:This|These|That|Those|It|They|Such|Thus|However|Likewise|Therefore|In this regard|"
    r"For example|For instance)\b"
)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


def widen_span(text: str, units: list[Unit], i: int, offset: int) -> tuple[int, int]:
    """Sentence ``i``'s corpus span, joined to the sentence before or after it when it leans on it.

    "Likewise, this perspective is embraced..." needs the sentence before;
    "The programs are:" and a sentence followed by "However, ..." need the
    one after. One sentence is added at most, and only a sentence: the answer
    is a sentence or two.
    """

    def body(u: Unit) -> str:
        return text[u.start - offset : u.end - offset]

    unit = units[i]
    start, end = unit.start, unit.end
    if i > 0 and units[i - 1].kind == "sentence" and _CONTINUES.match(body(unit)):
        return units[i - 1].start, end
    if i + 1 < len(units) and units[i + 1].kind == "sentence":
        following = units[i + 1]
        if body(unit).endswith(":") or _CONTINUES.match(body(following)):
            return start, following.end
    return start, end


def named_cell(query: str, row: str, header: str) -> tuple[str, str] | None:
    """The cell of ``row`` in the column the query names (a year, "coverage rate"), if exactly one fits best."""
    columns = table_columns(header)
    cells = [c.strip() for c in row.split("\t")]
    years = set(_YEAR.findall(query))
    terms = UNITS.stems(query)
    best: list[int] = []
    top = 0.0
    for j in range(1, min(len(columns), len(cells))):  # the first column names the row
        name = columns[j]
        score = 2.0 * len(years & set(_YEAR.findall(name))) + len(terms & UNITS.stems(_YEAR.sub(" ", name)))
        if score > top:
            best, top = [j], score
        elif score == top and score > 0:
            best.append(j)
    if len(best) != 1 or not cells[best[0]]:
        return None
    return columns[best[0]], cells[best[0]]
