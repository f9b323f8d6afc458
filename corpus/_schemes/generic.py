"""Generic scheme: the structure a report's own words give, for reports no other scheme knows.

Two kinds of heading make sections:

- markdown headings (``#`` .. ``######``), unnumbered ``section``s nested by level;
- numbered labels leading a line ("Objective 3", "**Priority Action 3.2**",
  "Recommendation 11:", "Article 5.", "Chapter IV", "Goal 2: ..."). A label
  word that recurs with increasing numbers becomes a section kind named by
  the word (``priority_action``, ``article``): a kind the vocabulary knows
  keeps its label and routing words, a new one gets them from the word
  (``corpus.kinds.discover_kind``), so it is cited, routed and filtered
  with no code.

Numbered sections nest by numbering (3.2 goes under the open section
numbered 3) and by the order their kinds first appear (articles inside the
chapter that came before them); unnumbered headings by markdown level.
Text before the first heading becomes a section titled after the document.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from core.types import Document
from corpus._tree import Node, clean_title, line_positions, paragraph_spans
from corpus.kinds import discover_kind, kind_name

__all__ = ["parse"]

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#*]*$")
_WORD = r"[A-Za-zÀ-ÿ]+"
_LABEL = re.compile(
    rf"^[ \t>#*_]*(?:<b>)?[ \t*_]*(?P<word>{_WORD}(?:[ \t]+(?![IVXLC]+\b){_WORD})?)"
    r"[ \t*_]*(?:</b>)?[ \t*_]*(?:<b>)?[ \t]*"
    r"(?:No\.?[ \t]*|N\.?º[ \t]*)?(?P<num>\d{1,3}(?:\.\d{1,3}){0,2}|[IVXLC]{1,6})(?![\w.]\w)\.?(?:</b>)?[ \t*_]*"
    r"(?P<rest>(?:[:.\-–—)][^\n]*|[ \t][^\n]*)?)$"
)
# Words that number captions and page furniture, not sections.
_NOT_SECTIONS = frozenset(
    "table tables figure figures chart graph box page pages note footnote source exhibit map annex photo "
    "january february march april may june july august september october november december "
    "tabla cuadro figura gráfico gráfica página nota fuente mapa enero febrero marzo abril mayo junio julio "
    "agosto septiembre octubre noviembre diciembre".split()
)
_MIN_REPEATS = 2
_NUMBERED = re.compile(r"^[ \t]*(?P<num>\d{1,3}\.|\d{1,3}(?:\.\d{1,3}){1,2}\.?)[ \t]+(?P<text>[A-Z¿¡\"“(][^\n]*)$")
_LIST_HEADER = re.compile(rf"^[ \t*_#]*(?P<word>{_WORD}(?:[ \t]+{_WORD})?)[ \t*_:]*$")
_MIN_PARAGRAPHS = 10


@dataclass
class _Item:
    start: int
    end: int
    kind: str | None  # None: an unnumbered markdown heading
    number: str | None
    title: str
    level: int  # markdown level, 7 for a label on a plain line
    listed: bool = False  # a numbered list item or paragraph: its first line is text, not a heading


def _roman(s: str) -> int | None:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    if not s or any(c not in values for c in s):
        return None
    total = 0
    for a, b in zip(s, [*s[1:], ""], strict=True):
        v = values[a]
        total += -v if b and values[b] > v else v
    return total


def _first_number(number: str) -> int:
    head = number.split(".")[0]
    return int(head) if head.isdigit() else (_roman(head) or 0)


def _label(line: str) -> tuple[str, str, str] | None:
    """(word, number, rest) of a line that opens with a numbered label, else None."""
    m = _LABEL.match(line)
    if not m:
        return None
    word = " ".join(m.group("word").split())
    parts = word.split()
    if not all(p[0].isupper() for p in parts) or word.lower() in _NOT_SECTIONS or len(parts[-1]) < 3:
        return None
    number = m.group("num")
    if number.isalpha() and (_roman(number) is None or not number.isupper()):
        return None
    return word, number, m.group("rest")


def _kinds(labels: list[tuple[str, str]]) -> dict[str, str]:
    """Label words (lower case) that recur with increasing numbers -> their kind's name, in order of appearance."""
    counts = Counter(word for word, _ in labels)
    out: dict[str, str] = {}
    for word, _ in labels:
        if word in out or counts[word] < _MIN_REPEATS:
            continue
        numbers = [_first_number(n) for w, n in labels if w == word]
        if any(b > a for a, b in pairwise(numbers)):
            out[word] = discover_kind(word).name
    return out


def _list_word(line: str) -> str | None:
    """The word naming the numbered list under a lone plural heading ("Objectives" -> "Objective")."""
    m = _LIST_HEADER.match(line)
    if not m:
        return None
    word = " ".join(m.group("word").split())
    if not word[0].isupper() or not word.lower().endswith("s") or word.lower() in _NOT_SECTIONS:
        return None
    singular = word[:-3] + "y" if word.lower().endswith("ies") else word[:-1]
    return singular if kind_name(word) == kind_name(singular) else word


def _items(text: str) -> list[_Item]:
    lines = line_positions(text)
    raw: list[tuple[int, int, int, tuple[str, str, str] | None, re.Match[str] | None]] = []
    listed: list[_Item] = []
    plain: list[_Item] = []
    list_word: str | None = None  # the heading word of the numbered list being read
    for start, end in lines:
        line = text[start:end]
        heading = _HEADING.match(line)
        label = _label(line)
        numbered = _NUMBERED.match(line)
        if heading or label:
            raw.append((start, end, len(heading.group(1)) if heading else 7, label, heading))
            list_word = None
        elif numbered:
            # The kind is registered only once a list has an item: a lone "Notes" line names nothing.
            kind = discover_kind(list_word).name if list_word else None
            item = _Item(
                start,
                end,
                kind,
                numbered.group("num").rstrip("."),
                clean_title(numbered.group("text"))[:120],
                8,
                listed=True,
            )
            (listed if kind else plain).append(item)
        elif line.strip():
            header = _list_word(line) if len(line.split()) <= 3 else None
            if header:
                list_word = header
    kinds = _kinds([(label[0].lower(), label[1]) for *_, label, _ in raw if label])
    items: list[_Item] = list(listed)
    for start, end, level, label, heading in raw:
        if label and label[0].lower() in kinds:
            word, number, rest = label
            title = clean_title(rest.lstrip(":.-–—) \t")) or f"{word.title()} {number}"
            items.append(_Item(start, end, kinds[word.lower()], number, title, level))
        elif heading:
            items.append(_Item(start, end, None, None, clean_title(heading.group(2)), level))
    items.extend(_paragraphs(plain))
    return sorted(items, key=lambda i: i.start)


def _paragraphs(plain: list[_Item]) -> list[_Item]:
    """Numbered lines outside any list, when they run through the report 1, 2, 3...: its paragraphs."""
    tops = [i for i in plain if "." not in (i.number or "")]
    steps = [int(b.number or 0) - int(a.number or 0) for a, b in pairwise(tops)]
    if len(tops) < _MIN_PARAGRAPHS or sum(s == 1 for s in steps) < 0.8 * len(steps):
        return []
    kind = discover_kind("Paragraph").name
    return [_Item(i.start, i.end, kind, i.number, i.title, 8, listed=True) for i in tops]


def parse(text: str, document: Document) -> list[Node]:
    items = _items(text)
    nodes: list[Node] = []
    first = items[0].start if items else len(text)
    lead = paragraph_spans(text, 0, first)
    if lead:
        nodes.append(Node("section", None, document.title, None, lead))
    order: dict[str, int] = {}
    for item in items:
        if item.kind is not None and not item.listed:
            order.setdefault(item.kind, len(order))
    stack: list[tuple[_Item, Node]] = []
    for i, item in enumerate(items):
        end = items[i + 1].start if i + 1 < len(items) else len(text)
        if item.listed:  # the numbered line is the item's own text
            node = Node(item.kind or "section", item.number, item.title, None, paragraph_spans(text, item.start, end))
        else:
            node = Node(item.kind or "section", item.number, item.title, (item.start, item.end))
            node.body = paragraph_spans(text, item.end, end)
        _close(stack, item, order)
        (stack[-1][1].children if stack else nodes).append(node)
        stack.append((item, node))
    return nodes


def _close(stack: list[tuple[_Item, Node]], item: _Item, order: dict[str, int]) -> None:
    """Pop the open sections ``item`` does not belong under."""
    if item.kind is not None and item.number and "." in item.number:
        parent = item.number.rsplit(".", 1)[0]
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][0].number == parent:
                del stack[depth + 1 :]
                return
        # No open section numbered as its parent (a heading the conversion lost): never under
        # another number ("Objective 1 > Priority Action 2.3" would be a wrong citation).
        while stack and stack[-1][0].kind is not None:
            stack.pop()
    if item.listed:  # under the open heading or label, after its own list's earlier items
        while stack and stack[-1][0].listed:
            stack.pop()
        return
    while stack:
        top = stack[-1][0]
        if top.listed:  # a heading or a label ends a list
            ends = True
        elif item.kind is None:
            ends = top.level >= item.level
        elif top.kind is None:
            ends = top.level > item.level
        else:
            ends = order[top.kind] >= order[item.kind]
        if not ends:
            return
        stack.pop()
