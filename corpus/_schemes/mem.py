"""MEM scheme: the OAS/CICAD Multilateral Evaluation Mechanism country report.

The report covers the five thematic areas of the Hemispheric Plan of Action
on Drugs twice: the "Comprehensive Evaluation" part gives one assessment per
numbered objective (numbers restart in every area), and the "Annex: Priority
Actions with Updates" repeats the areas and some objectives with
"Priority Action N.M" sections under them. Both parts are merged into one
tree: ``thematic_area`` > ``objective`` (statement + assessment) >
``priority_action`` (details from the annex, N = the objective), with the
cover, the preface and any back matter as plain ``section``s.

Headings come out of the PDF conversion in many shapes (``#`` levels that
vary, bold or not, two headings fused on one line, "OBJECTIVE" and its number
on separate lines or paragraphs, HTML ``<b>`` tags with the objective's
restatement on the same line), so the text is first cut into blocks
(paragraphs, with fused bold headings split apart) and each block is
recognised by its cleaned text, never by its markup or position.

The annex's own objective headings and their ALL-CAPS restatements of the
objective, and the part and annex area headings, belong to no section: the
statement they repeat is already the objective's body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from core.errors import CorpusError
from core.types import Document, Span
from corpus._tree import Node, clean_title, trim_span

__all__ = ["parse"]

# The five thematic areas of the Hemispheric Plan of Action on Drugs 2021-2025,
# in report order, with the canonical (readable-case) titles used as section titles.
_AREAS: tuple[str, ...] = (
    "Institutional Strengthening",
    "Measures of Prevention, Treatment and Recovery Support",
    "Measures to Control and Counter the Illicit Cultivation, Production, Trafficking, and "
    "Distribution of Drugs, and to Address Their Causes and Consequences",
    "Research, Information, Monitoring, and Evaluation",
    "International Cooperation",
)

# Separator lines (markdown rules, a converted table rule "------\t---"): noise.
_SEPARATOR = re.compile(r"-{3,}[\s-]*")
# The point between two bold runs fused on one line: "**AREA****Objective 1**".
_FUSED_BOLD = re.compile(r"\*\*(?=\*\*[^*])")
_NON_LETTERS = re.compile(r"[^a-z]+")

# An objective heading, in either case; the number may be missing (it then
# stands alone in the next block) and an ALL-CAPS restatement may follow it.
_OBJECTIVE = re.compile(r"(?i:objective)(?:\s+(\d+))?(?:\s+([^a-z]*[A-Z][^a-z]*))?")
_NUMBER = re.compile(r"\d+")
_PRIORITY_ACTION = re.compile(r"Priority Action (\d+)\.(\d+)\s*:?\s*(.*)")
# The address block on the back cover, after the last priority action.
_BACK_MATTER = re.compile(r"Organization of American States \(OAS\)")

_PREFACE = "preface"
_EVALUATION = "comprehensiveevaluation"
_ANNEX_PARTS = frozenset({"annex", "priorityactionswithupdates"})
_PART_KEYS = frozenset({_PREFACE, _EVALUATION, *_ANNEX_PARTS})


@dataclass(frozen=True, slots=True)
class _Block:
    """A paragraph (or one piece of a fused heading line) and its cleaned text."""

    start: int
    end: int
    clean: str

    @property
    def span(self) -> Span:
        return (self.start, self.end)


@dataclass(frozen=True, slots=True)
class _Heading:
    """A recognised heading spanning ``consumed`` blocks from the current one."""

    kind: str  # "part", "area", "objective" or "priority_action"
    span: Span
    consumed: int
    number: str | None = None
    title: str = ""  # part key, canonical area title, PA text or inline restatement


def _key(text: str) -> str:
    """Letters only, lowercased: compares headings regardless of case and punctuation."""
    return _NON_LETTERS.sub("", text.lower())


_AREA_BY_KEY: dict[str, str] = {_key(title): title for title in _AREAS}


def _blocks(text: str) -> list[_Block]:
    """Cut the text into trimmed paragraphs, dropping separator lines and splitting fused bold runs."""
    paragraphs: list[Span] = []
    start: int | None = None
    end = pos = 0
    for line in text.split("\n"):
        content = line.strip()
        if not content or _SEPARATOR.fullmatch(content):
            if start is not None:
                paragraphs.append((start, end))
                start = None
        else:
            if start is None:
                start = pos + len(line) - len(line.lstrip())
            end = pos + len(line.rstrip())
        pos += len(line) + 1
    if start is not None:
        paragraphs.append((start, end))

    blocks: list[_Block] = []
    for p_start, p_end in paragraphs:
        cuts = [p_start, *(m.end() + p_start for m in _FUSED_BOLD.finditer(text[p_start:p_end])), p_end]
        for a, b in pairwise(cuts):
            span = trim_span(text, a, b)
            if span:
                blocks.append(_Block(span[0], span[1], clean_title(text[span[0] : span[1]])))
    return blocks


def _heading(blocks: list[_Block], i: int) -> _Heading | None:
    """The heading starting at block ``i``, or None if the block is text."""
    block = blocks[i]
    key = _key(block.clean)
    if key in _AREA_BY_KEY:
        return _Heading("area", block.span, 1, title=_AREA_BY_KEY[key])
    if key in _PART_KEYS:
        return _Heading("part", block.span, 1, title=key)
    if m := _PRIORITY_ACTION.fullmatch(block.clean):
        return _Heading("priority_action", block.span, 1, f"{m[1]}.{m[2]}", m[3])
    if m := _OBJECTIVE.fullmatch(block.clean):
        number, consumed = m[1], 1
        if number is None:
            # "## OBJECTIVE", blank line, "4": the number is the next block.
            if m[2] or i + 1 >= len(blocks) or not _NUMBER.fullmatch(blocks[i + 1].clean):
                return None
            number, consumed = blocks[i + 1].clean, 2
        end = blocks[i + consumed - 1].end
        return _Heading("objective", (block.start, end), consumed, number, m[2] or "")
    return None


def _find_part(blocks: list[_Block], keys: frozenset[str] | set[str], start: int = 0) -> int:
    """Index of the first part heading among ``keys`` from ``start``."""
    for i in range(start, len(blocks)):
        if _key(blocks[i].clean) in keys:
            return i
    raise CorpusError(f"MEM report: no part heading {' / '.join(sorted(keys))}")


def _parse_evaluation(blocks: list[_Block]) -> list[Node]:
    """Thematic areas and their objectives (statement + assessment) from the evaluation part."""
    areas: list[Node] = []
    objective: Node | None = None
    i = 0
    while i < len(blocks):
        block, heading = blocks[i], _heading(blocks, i)
        if heading is None:
            if objective is None:
                raise CorpusError(f"MEM report: text outside any objective at offset {block.start}")
            if not objective.title:  # the first paragraph is the objective's statement
                objective.title = block.clean
            objective.body.append(block.span)
        elif heading.kind == "area":
            areas.append(Node("thematic_area", None, heading.title, heading.span))
            objective = None
        elif heading.kind == "objective" and areas:
            objective = areas[-1].add(Node("objective", heading.number, "", heading.span))
        else:
            raise CorpusError(f"MEM report: unexpected {heading.kind} heading at offset {block.start}")
        i += heading.consumed if heading else 1
    for area in areas:
        for node in area.children:
            if not node.title:
                raise CorpusError(f"MEM report: {area.title} objective {node.number} has no statement")
    return areas


def _attach_priority_actions(blocks: list[_Block], areas: list[Node]) -> None:
    """Hang the annex's priority actions under the evaluation objectives they belong to.

    A priority action N.M goes under objective N of the current annex area.
    Consecutive PA headings with no text between them share the body that
    follows (the report answers several actions at once).
    """
    by_title = {area.title: area for area in areas}
    area: Node | None = None
    group: list[Node] = []  # the PAs the current body text belongs to
    group_has_body = False
    expect_restatement = False
    i = 0
    while i < len(blocks):
        block, heading = blocks[i], _heading(blocks, i)
        i += heading.consumed if heading else 1
        if heading is None:
            # The annex repeats the objective's statement in capitals: a heading, not body.
            if expect_restatement and not any(c.islower() for c in block.clean):
                expect_restatement = False
                continue
            expect_restatement = False
            if not group:
                raise CorpusError(f"MEM report: annex text outside any priority action at {block.start}")
            for pa in group:
                pa.body.append(block.span)
            group_has_body = True
        elif heading.kind == "area":
            area, group = by_title.get(heading.title), []
            if area is None:
                raise CorpusError(f"MEM report: annex area {heading.title!r} not in the evaluation")
        elif heading.kind == "objective":
            group, expect_restatement = [], not heading.title
        elif heading.kind == "priority_action" and area is not None:
            if group_has_body:
                group, group_has_body = [], False
            expect_restatement = False
            objective_number = (heading.number or "").split(".")[0]
            parent = next((o for o in area.children if o.number == objective_number), None)
            if parent is None or not heading.title:
                raise CorpusError(f"MEM report: bad Priority Action {heading.number} in {area.title}")
            group.append(parent.add(Node("priority_action", heading.number, heading.title, heading.span)))
        else:
            raise CorpusError(f"MEM report: unexpected {heading.kind} heading at offset {block.start}")


def parse(text: str, document: Document) -> list[Node]:
    """Cover, preface, the five thematic areas (objectives > priority actions), back matter."""
    blocks = _blocks(text)
    preface = _find_part(blocks, {_PREFACE})
    evaluation = _find_part(blocks, {_EVALUATION}, preface + 1)
    annex = _find_part(blocks, _ANNEX_PARTS, evaluation + 1)
    annex_body = annex + 1
    while annex_body < len(blocks) and _key(blocks[annex_body].clean) in _ANNEX_PARTS:
        annex_body += 1  # "ANNEX" and "PRIORITY ACTIONS WITH UPDATES" are both part headings
    back = next((i for i in range(annex_body, len(blocks)) if _BACK_MATTER.match(blocks[i].clean)), len(blocks))

    cover = [b.span for b in blocks[:preface]]
    preface_body = [b.span for b in blocks[preface + 1 : evaluation]]
    nodes = [
        Node("section", None, "Cover", None, cover),
        Node("section", None, "Preface", blocks[preface].span, preface_body),
    ]
    areas = _parse_evaluation(blocks[evaluation + 1 : annex])
    _attach_priority_actions(blocks[annex_body:back], areas)
    nodes.extend(areas)
    if back < len(blocks):
        nodes.append(Node("section", None, "Back Cover", None, [b.span for b in blocks[back:]]))
    return nodes
