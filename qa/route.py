"""Query handling: find the sections a question names by number.

"What does priority action 2.6 say?", "PA 3.4 under prevention",
"objective 10 of control and counter", "recommendation 12",
"alliance point 5", "paragraph 57". Words naming a thematic area or a report
narrow the candidates; whatever stays ambiguous is returned whole and the
retriever orders it by relevance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from qa.types import Section, SectionRef

__all__ = ["Route", "parse_refs", "route"]

_NUM = r"\d{1,3}(?:\.\d{1,3}){0,2}"
_LIST = rf"({_NUM}(?:\s*(?:,|&|and|or|y)\s*{_NUM})*)"

# (kind, pattern) in priority order; "priority action" is matched before the
# bare "action" so it is not read twice.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pat, re.I))
    for kind, pat in (
        ("priority_action", rf"\b(?:priority[\s-]*actions?|p\.?\s?a\.?s?)\s*(?:no\.?|#|n\.?º)?\s*{_LIST}"),
        ("alliance_point", rf"\b(?:alliance[\s-]*points?|a\.?p\.?s?)\s*(?:no\.?|#)?\s*{_LIST}"),
        ("recommendation", rf"\brec(?:ommendations?|s\.?|\.)?\s*(?:no\.?|#)?\s*{_LIST}"),
        ("paragraph", rf"(?:\bparagraphs?|\bparas?\.?|¶{{1,2}})\s*(?:no\.?|#)?\s*{_LIST}"),
        ("objective", rf"\bobj(?:ectives?|s\.?|\.)?\s*(?:no\.?|#)?\s*{_LIST}"),
        ("issue", rf"\bissues?\s*(?:no\.?|#)?\s*{_LIST}"),
        ("goal", rf"\bgoals?\s*(?:no\.?|#)?\s*{_LIST}"),
        ("action", rf"(?<!priority )(?<!priority-)\bactions?\s*(?:no\.?|#)?\s*{_LIST}"),
    )
)
_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bor\b|\by\b)\s*", re.I)

# Words that name a MEM thematic area, matched against the area's title.
_AREA_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("institutional", ("institutional strengthening", "institutional", " is ")),
    ("prevention", ("prevention", "treatment", "recovery", "demand reduction", " ptr ")),
    ("control", ("control and counter", "supply", "interdiction", "cultivation", "counter")),
    ("research", ("research", "monitoring", "information", " rime ")),
    ("international cooperation", ("international cooperation", "cooperation", " ic ")),
)

# Words that name a report, matched against the catalog's ids.
_DOC_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mem-", ("mem", "cicad", "multilateral evaluation", "hemispheric plan", "thematic area")),
    ("binational", ("binational", "bi-national", "alliance point", "1998 strategy")),
    ("honlac", ("honlac", "honlea", "unodc", "heads of national drug law enforcement")),
    ("elementa", ("elementa", "bicentennial", "warlike", "amlo")),
    ("inl", ("fact sheet", "inl", "state department", "department of state")),
)


@dataclass(frozen=True, slots=True)
class Route:
    """The sections a question names, best-narrowed, in document order."""

    refs: tuple[SectionRef, ...]
    sections: tuple[Section, ...]


def parse_refs(query: str) -> tuple[SectionRef, ...]:
    """Every numbered section reference in ``query``, in order of appearance."""
    found: list[tuple[int, SectionRef]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(query):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue  # already read as a more specific kind
            taken.append(m.span())
            for number in _SPLIT.split(m.group(1)):
                if number:
                    found.append((m.start(), SectionRef(kind, number.strip("."))))
    found.sort(key=lambda t: t[0])
    seen: set[SectionRef] = set()
    return tuple(r for _, r in found if not (r in seen or seen.add(r)))


def _mentions(query: str, words: Iterable[str]) -> bool:
    q = f" {re.sub(r'[^a-z0-9]+', ' ', query.lower())} "
    return any(f" {w.strip()} " in q if w.startswith(" ") else w in q for w in words)


def _area_of(section: Section) -> str | None:
    for el in section.path:
        if el.kind == "thematic_area":
            return el.title.lower()
    return None


def route(query: str, sections: Iterable[Section]) -> Route:
    """Resolve the section references in ``query`` against ``sections``.

    A priority action N.M also fixes objective N. Area and report words
    narrow the matches only when some match survives the narrowing, so a
    stray word never routes a question to nothing.
    """
    refs = parse_refs(query)
    if not refs:
        return Route((), ())
    wanted = {(r.kind, r.number) for r in refs}
    matches = [s for s in sections if s.number is not None and (s.kind, s.number) in wanted]
    areas = [key for key, words in _AREA_WORDS if _mentions(query, words)]
    if areas:
        narrowed = [s for s in matches if _area_of(s) is None or any(a in (_area_of(s) or "") for a in areas)]
        in_area = [s for s in narrowed if _area_of(s) is not None]
        if in_area:
            matches = narrowed if len(areas) > 1 else in_area + [s for s in narrowed if _area_of(s) is None]
    docs = [key for key, words in _DOC_WORDS if _mentions(query, words)]
    if docs:
        narrowed = [s for s in matches if any(key in s.document_id for key in docs)]
        if narrowed:
            matches = narrowed
    return Route(refs, tuple(matches))
