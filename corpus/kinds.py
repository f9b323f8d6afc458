"""The section kinds: what each one is called, how questions name it, whether it filters.

One entry per kind, beside the schemes that produce them. Everything that
needs a kind's vocabulary reads it from here: citations (``label``), the
question router (``reference``: the words that name a numbered section, in
English and Spanish), and the search filters (``filter``), so the API, MCP,
the CLI and the engine all follow one edit here. Kind names are part of the
API contract: clients filter and display by them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "KINDS",
    "SectionKind",
    "discover_kind",
    "filter_kinds",
    "kind_name",
    "label_of",
    "register_kind",
    "routed_kinds",
]


@dataclass(frozen=True, slots=True)
class SectionKind:
    """One kind of section and its vocabulary.

    ``label`` is how a numbered element reads in a citation ("Priority Action
    2.6"); a kind without one is cited by its title ("Institutional
    Strengthening"). ``reference`` is a regular expression for the words
    that name a section of this kind before its number ("priority action",
    "PA", "acción prioritaria"), or None when questions never name it by
    number. Among kinds whose words overlap, a lower ``precedence`` is read
    first ("priority action 2" before "action 2"). ``filter`` says how
    searches are restricted to one such section: by ``"number"`` or by
    ``"title"`` (any unambiguous part of it, in any language the catalog
    knows). A numbered kind (one with a ``label``) always filters by number:
    its ``filter`` is ``"number"`` unless given, and its ``filter_help`` and
    ``filter_example`` come from the label unless given ("Only this goal
    number.", "1"), so a kind the generic scheme finds and a built-in one
    ("Goal", "Recommendation") filter alike.
    """

    name: str
    label: str | None = None
    reference: str | None = None
    precedence: int = 100
    filter: Literal["number", "title"] | None = None
    filter_help: str = ""
    filter_example: str = ""

    def __post_init__(self) -> None:
        if self.label and self.filter is None:
            object.__setattr__(self, "filter", "number")
        if self.label and self.filter == "number":
            object.__setattr__(self, "filter_help", self.filter_help or f"Only this {self.label.lower()} number.")
            object.__setattr__(self, "filter_example", self.filter_example or "1")


KINDS: dict[str, SectionKind] = {}
"""Every known kind by name, in the order the API documents them."""


def register_kind(kind: SectionKind) -> SectionKind:
    """Add (or replace) a kind: its label, routing words and filter follow everywhere."""
    KINDS[kind.name] = kind
    return kind


def label_of(kind: str, number: str | None, title: str) -> str:
    """The element as staff would cite it: "Objective 2", "International Cooperation"."""
    known = KINDS.get(kind)
    if number is not None and known is not None and known.label:
        return f"{known.label} {number}"
    return title


# Structural words in both languages, for kinds a report's own labels introduce ("Article 5",
# "Artículo 5"): each word's English (singular, plural) and Spanish (singular, plural) forms.
_BILINGUAL: tuple[tuple[str, str, str, str], ...] = (
    ("article", "articles", "artículo", "artículos"),
    ("chapter", "chapters", "capítulo", "capítulos"),
    ("section", "sections", "sección", "secciones"),
    ("title", "titles", "título", "títulos"),
    ("part", "parts", "parte", "partes"),
    ("annex", "annexes", "anexo", "anexos"),
    ("measure", "measures", "medida", "medidas"),
    ("pillar", "pillars", "pilar", "pilares"),
    ("axis", "axes", "eje", "ejes"),
    ("component", "components", "componente", "componentes"),
    ("programme", "programmes", "programa", "programas"),
    ("program", "programs", "programa", "programas"),
    ("principle", "principles", "principio", "principios"),
    ("strategy", "strategies", "estrategia", "estrategias"),
    ("line", "lines", "línea", "líneas"),
    ("point", "points", "punto", "puntos"),
    ("target", "targets", "meta", "metas"),
    ("indicator", "indicators", "indicador", "indicadores"),
    ("rule", "rules", "regla", "reglas"),
    ("step", "steps", "paso", "pasos"),
    ("question", "questions", "pregunta", "preguntas"),
    ("finding", "findings", "hallazgo", "hallazgos"),
    ("commitment", "commitments", "compromiso", "compromisos"),
)


def _fold(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _pattern(form: str) -> str:
    """A word as a pattern that takes it with or without its accents ("artículo", "articulo")."""
    accents = {"a": "[aá]", "e": "[eé]", "i": "[ií]", "o": "[oó]", "u": "[uú]"}
    return "".join(accents.get(c, re.escape(c)) for c in _fold(form))


def kind_name(word: str) -> str:
    """The kind a label word names: "Priority Action" -> ``priority_action``, "Artículos" -> ``article``."""
    folded = " ".join(_fold(word).split())
    for en, en_plural, es, es_plural in _BILINGUAL:
        if folded in {en, en_plural, _fold(es), _fold(es_plural)}:
            return en
    for kind in KINDS.values():
        if kind.label and folded in {_fold(kind.label), _fold(kind.label) + "s"}:
            return kind.name
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


def discover_kind(word: str) -> SectionKind:
    """The kind a report's recurring label word names, registered with its vocabulary if it is new.

    A kind the vocabulary already numbers (objective, priority action,
    recommendation, goal) is returned as it is. A new one ("Article",
    "Capítulo") is cited by the word ("Article 5") and named in questions by
    the word in English and Spanish where ``_BILINGUAL`` knows it. Either
    way it filters by number, as every numbered kind does.
    """
    name = kind_name(word)
    known = KINDS.get(name)
    if known is not None and known.reference:
        return known
    forms = next((f for f in _BILINGUAL if f[0] == name), None)
    words = [*forms] if forms else [word, word + "s"]
    label = (forms[0] if forms else " ".join(word.split())).title()
    reference = (
        r"\b(?:" + "|".join(sorted({_pattern(w).replace(r"\ ", r"[\s-]*") for w in words}, key=len, reverse=True)) + ")"
    )
    return register_kind(SectionKind(name, label, reference, 50))


def routed_kinds() -> list[SectionKind]:
    """Kinds a question can name by number, most specific words first."""
    return sorted((k for k in KINDS.values() if k.reference), key=lambda k: k.precedence)


def filter_kinds() -> list[SectionKind]:
    """Kinds that are search filters (every numbered kind, and the titled ones marked so), in API order."""
    return [k for k in KINDS.values() if k.filter]


for _kind in (
    SectionKind(
        "thematic_area",
        filter="title",
        filter_help="Only this MEM thematic area (its name in English or Spanish, or an unambiguous part of it).",
        filter_example="Institutional Strengthening",
    ),
    SectionKind(
        "objective",
        "Objective",
        r"\bobj(?:ectives?|etivos?|s\.?|\.)?",
        5,
        filter_example="2",
    ),
    SectionKind(
        "priority_action",
        "Priority Action",
        r"\b(?:priority[\s-]*actions?|p\.?\s?a\.?s?|acci[oó]n(?:es)?\s+prioritarias?)",
        1,
        filter_help="Only this MEM priority action number.",
        filter_example="2.6",
    ),
    SectionKind(
        "alliance_point", "Alliance Point", r"\b(?:alliance[\s-]*points?|a\.?p\.?s?|puntos?\s+de\s+alianza)", 2
    ),
    SectionKind("action", "Action", r"(?<!priority )(?<!priority-)\b(?:actions?|acci[oó]n(?:es)?)", 8),
    SectionKind("issue", "Issue", r"\b(?:issues?|temas?)", 6),
    SectionKind("recommendation", "Recommendation", r"\brec(?:ommendations?|omendaci[oó]n(?:es)?|s\.?|\.)?", 3),
    SectionKind("paragraph", "Paragraph", r"(?:\bparagraphs?|\bparas?\.?|\bp[aá]rrafos?|¶{1,2})", 4),
    SectionKind("goal", "Goal", r"\b(?:goals?|metas?)", 7),
    SectionKind("area"),
    SectionKind("section"),
):
    register_kind(_kind)
