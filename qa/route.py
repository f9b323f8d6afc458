"""Query handling: find the sections a question names by number.

"What does priority action 2.6 say?", "PA 3.4 under prevention",
"objective 10 of control and counter", "recommendation 12",
"alliance point 5", "paragraph 57", and the same in Spanish ("acción
prioritaria 2.6", "recomendación 11", "punto de alianza 5", "párrafo 57",
"tema 3", "objetivo 2 de la meta 1"). Words naming a thematic area or a
report, in either language (the names come from ``corpus/catalog.json``),
narrow the candidates; whatever stays ambiguous is returned whole and the
retriever orders it by relevance.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from core.types import Document, Section, SectionRef
from corpus.kinds import routed_kinds

__all__ = ["Route", "named_documents", "parse_refs", "route"]

_NUM = r"\d{1,3}(?:\.\d{1,3}){0,2}(?!\d)"  # not the start of a year: "para 2024"
_LIST = rf"({_NUM}(?:\s*(?:,|&|and|or|y|o)\s*{_NUM})*)"
_NO = r"(?:no\.?|#|n\.?º|n[uú]m(?:ero)?\.?)?"


@lru_cache(maxsize=8)
def _compiled(
    vocabulary: tuple[tuple[str, str, str], ...],
) -> tuple[tuple[tuple[str, re.Pattern[str]], ...], re.Pattern[str]]:
    """The reference patterns (kind, pattern), most specific first, and the ordinal pattern of a vocabulary."""
    patterns = tuple((kind, re.compile(rf"{words}\s*{_NO}\s*{_LIST}", re.I)) for kind, words, _ in vocabulary)
    labels = "|".join(re.escape(label.lower()).replace(r"\ ", r"[\s-]*") for _, _, label in vocabulary if label)
    ordinal = re.compile(rf"\b({'|'.join(_ORDINALS)})\s+({labels})\b", re.I)
    return patterns, ordinal


def _vocabulary() -> tuple[tuple[tuple[str, re.Pattern[str]], ...], re.Pattern[str]]:
    """Compiled from ``corpus.kinds`` as it stands (a kind registered later routes too)."""
    return _compiled(tuple((k.name, k.reference or "", k.label or "") for k in routed_kinds()))


_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bor\b|\by\b|\bo\b)\s*", re.I)

# Filler of questions about a numbered section: once these and the reference
# itself are removed, whatever is left is what the user wants to know.
_FILLER = frozenset(
    """a about all an and any are as at be by can content contents could describe details do does doc document
    for from full give has have he her his how i in into is it its me mean means mention mentions mexican mexico
    my of on or our please provide report s say says section she show state states summarise summarize summary
    tell text that the their them there these they this those to under us was we were what whats which who with
    within would you your
    algo cual cuales como con cuenta dice dicen del donde dame el en es esta este eso explica hay informe la las
    lo los me mexicano mexicana mi muestra para por que qu quiero se seccion segun sobre su sus texto un una
    contenido resumen resume establece menciona habla trata""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+")

# Report names come from corpus/catalog.json (``Document.names``, every
# language): only names, since topics several reports discuss ("Bicentennial
# Agreement", "UNODC training") would pull questions to the wrong report.


@dataclass(frozen=True, slots=True)
class Route:
    """The sections a question names, in document order.

    ``topical`` says whether the question asks something about those sections
    ("what does PA 2.6 say about gender?") or just names them ("PA 2.6"):
    the retriever orders a named section's passages by relevance in the first
    case and in reading order in the second.
    """

    refs: tuple[SectionRef, ...]
    sections: tuple[Section, ...]
    topical: bool = True
    topic: str = ""
    """The question's own words once the reference, filler and area names are gone."""


_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth"
).split()


def _spell_out_ordinals(query: str) -> str:
    """ "the third objective" reads as "objective 3" (the reports number, users count)."""
    return _vocabulary()[1].sub(lambda m: f"{m.group(2)} {_ORDINALS.index(m.group(1).lower()) + 1}", query)


def _find_refs(query: str) -> tuple[list[tuple[int, SectionRef]], list[tuple[int, int]]]:
    found: list[tuple[int, SectionRef]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _vocabulary()[0]:
        for m in pattern.finditer(query):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue  # already read as a more specific kind
            taken.append(m.span())
            for number in _SPLIT.split(m.group(1)):
                if number:
                    found.append((m.start(), SectionRef(kind, number.strip("."))))
    found.sort(key=lambda t: t[0])
    return found, taken


def _distinct(found: list[tuple[int, SectionRef]]) -> tuple[SectionRef, ...]:
    seen: set[SectionRef] = set()
    return tuple(r for _, r in found if not (r in seen or seen.add(r)))


def parse_refs(query: str) -> tuple[SectionRef, ...]:
    """Every numbered section reference in ``query``, in order of appearance."""
    found, _ = _find_refs(_spell_out_ordinals(query))
    return _distinct(found)


@lru_cache(maxsize=8192)
def _fold(text: str) -> str:
    """Lower case without accents: "Acción" and "accion" read alike.

    Cached: every question folds every report name and title it is checked
    against, and at a few hundred reports that folding alone took 80 ms a question.
    """
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return [w for w in _TOKEN.findall(_fold(text)) if w not in _FILLER and not w.isdigit()]


def _stem(word: str) -> str:
    # A crude shared prefix is enough to match "preventive" to "Prevention".
    return word[:5]


@lru_cache(maxsize=8192)
def _phrase(text: str) -> str:
    """``text``'s folded words, space-separated and space-padded: what ``_mentions`` compares."""
    return f" {' '.join(_TOKEN.findall(_fold(text)))} "


def _mentions(query: str, names: Iterable[str]) -> bool:
    q = _phrase(query)
    return any(_phrase(n) in q for n in names)


def named_documents(query: str, documents: Iterable[Document]) -> tuple[str, ...]:
    """Ids of the reports a question names ("according to the MEM", "la Estrategia Binacional")."""
    return tuple(d.id for d in documents if _mentions(query, d.names))


def _title_stems(section: Section, other_names: dict[str, str] | None = None) -> set[str]:
    """Stems of the unnumbered ancestors' titles (thematic areas, areas, parts), in every language known."""
    titles = [el.title for el in section.path if el.number is None]
    titles += [other_names[t] for t in titles if other_names and t in other_names]
    return {_stem(w) for title in titles for w in _words(title) if len(w) >= 4}


def route(query: str, sections: Iterable[Section], documents: Iterable[Document] = ()) -> Route:
    """Resolve the section references in ``query`` against ``sections``.

    - Nested references read as one path: "objective 2 of alliance point 4"
      is alliance point 4's objective 2, not every objective 2.
    - Words of an area's or part's title ("under prevention", "public health")
      and report names narrow the matches, only when some match survives, so a
      stray word never routes a question to nothing.
    - Whatever stays ambiguous is returned whole.

    ``documents`` (the catalog) gives report names and areas' names in other
    languages ("Fortalecimiento Institucional").
    """
    documents = list(documents)
    other_names = {title: name for d in documents for title, name in d.area_names}
    query = _spell_out_ordinals(query)
    found, spans = _find_refs(query)
    refs = _distinct(found)
    if not refs:
        return Route((), ())
    wanted = {(r.kind, r.number) for r in refs}
    matches = [s for s in sections if s.number is not None and (s.kind, s.number) in wanted]

    def satisfied(s: Section) -> int:
        return sum(1 for r in refs if any(el.kind == r.kind and el.number == r.number for el in s.path))

    if matches:
        best = max(map(satisfied, matches))
        matches = [s for s in matches if satisfied(s) == best]

    rest = query
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    words = [w for w in _words(rest) if len(w) >= 4]
    stems = {_stem(w) for w in words}
    if matches and stems:
        overlap = {s.id: len(stems & _title_stems(s, other_names)) for s in matches}
        top = max(overlap.values())
        if top:
            matches = [s for s in matches if overlap[s.id] == top]
    present = {s.document_id for s in matches}
    docs = named_documents(query, [d for d in documents if d.id in present])
    if docs:
        narrowed = [s for s in matches if s.document_id in docs]
        if narrowed:
            matches = narrowed

    # What is left once titles and report names are discounted is the topic.
    used = {st for s in matches for st in _title_stems(s, other_names)}
    doc_words = {w for d in documents for name in d.names for w in _TOKEN.findall(_fold(name))}
    topic = [w for w in words if _stem(w) not in used and w not in doc_words]
    return Route(refs, tuple(matches), bool(topic), " ".join(topic))
