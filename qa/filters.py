"""The search filters, defined once: what each one is, what it accepts, and the passages it allows.

The filters are the report (``document``) plus every section kind that
``corpus.kinds`` marks as a filter: a thematic area by its name, and every
numbered kind (objective, priority action, recommendation, goal...) by its
number. REST (POST body and GET query),
MCP, the CLI and the engine all derive their filter parameters from
``filter_specs()``, so a kind marked as a filter there is a filter
everywhere, with no other edit.

A kind the generic scheme discovers in an added report ("Article 5") is
registered only when a report that has it is parsed or loaded, after the
faces built their parameters at import. It is a filter all the same: the
faces also take filters by name beyond those parameters (``filters`` fields
of POST /search, query parameters of GET /search named as a filter,
``policyqa ask --filter NAME=VALUE``; MCP's ``search`` tool is derived again
when the filters change), and the engine checks every name against
``filter_specs()`` as it stands when the search runs.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from core.errors import InvalidQueryError, shown
from core.types import Filters, Passage
from corpus.kinds import filter_kinds

if TYPE_CHECKING:
    from index.store import StoredIndex

__all__ = [
    "FILTER_MAX_CHARS",
    "FilterIndex",
    "FilterSpec",
    "describe_filters",
    "filter_names",
    "filter_specs",
    "with_filter_parameters",
]

FILTER_MAX_CHARS = 200
"""Longest filter value accepted (an area's name in full); longer is refused before any lookup."""


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """One search filter: its name (the section kind, or ``document``), how it matches, its docs."""

    name: str
    match: Literal["document", "number", "title"]
    help: str
    example: str


def filter_specs() -> list[FilterSpec]:
    """Every filter, in the order the API documents them."""
    document = FilterSpec("document", "document", "Only this document id (from GET /documents).", "mem-mexico-2024")
    kinds = [FilterSpec(k.name, k.filter, k.filter_help, k.filter_example) for k in filter_kinds() if k.filter]
    return [document, *kinds]


def describe_filters() -> str:
    """The filters in one line, for tool descriptions: "document (Only this document id ...; e.g. '...'), ..."."""
    return ", ".join(f"{s.name} ({s.help.rstrip('.')}; e.g. '{s.example}')" for s in filter_specs())


def with_filter_parameters(
    func: Callable[..., Any], parameter: Callable[[FilterSpec], tuple[Any, Any]]
) -> Callable[..., Any]:
    """``func`` with one keyword-only parameter per filter added to its signature.

    ``parameter(spec)`` gives each one's (annotation, default): a FastAPI
    ``Query``, a typer option, a pydantic field. Frameworks that read
    signatures (FastAPI, typer, MCP's FastMCP) then expose every filter, and
    ``func`` receives them as keyword arguments (collect them with
    ``Filters(**kwargs)`` over ``filter_specs()``'s names).
    """
    signature = inspect.signature(func, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    added = []
    for spec in filter_specs():
        annotation, default = parameter(spec)
        added.append(
            inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        )
    func.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    return func


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _numkey(n: str) -> tuple[int, ...]:
    return tuple(int(x) for x in n.split(".") if x.isdigit())


class FilterIndex:
    """One index's filter values and the passage mask of a ``Filters`` (built once per loaded index)."""

    def __init__(self, index: StoredIndex) -> None:
        self.index = index
        # A title filter's names in other languages ("Fortalecimiento Institucional"), from the catalog.
        self._aliases = {name: title for d in index.documents.values() for title, name in d.area_names}
        self._valid: dict[str, tuple[str, ...]] = {}
        for spec in filter_specs():
            self._values(spec)
        self._rows = _value_rows(index.passages, filter_specs())

    def _values(self, spec: FilterSpec) -> tuple[str, ...]:
        """What ``spec`` accepts in this index, computed once (a kind registered after the index loaded too)."""
        values = self._valid.get(spec.name)
        if values is None:
            sections = self.index.sections.values()
            if spec.match == "document":
                values = tuple(sorted(self.index.documents))
            elif spec.match == "title":
                values = tuple(sorted({el.title for s in sections for el in s.path if el.kind == spec.name}))
            else:
                values = tuple(sorted({s.number for s in sections if s.kind == spec.name and s.number}, key=_numkey))
            self._valid[spec.name] = values
        return values

    def valid_values(self) -> dict[str, list[str]]:
        """What each filter accepts (GET /filters), leaving out the kinds no loaded report has.

        A form builds its choices from this: a kind with no section here
        ("paragraph" in a library of MEM reports, "article" once its report
        is removed) would only be an empty control.
        """
        specs = filter_specs()
        return {s.name: list(v) for s in specs if (v := self._values(s)) or s.match == "document"}

    def _resolve_title(self, kind: str, value: str) -> str:
        titles = self._valid[kind]
        v = _norm(value)
        aliases = {name: title for name, title in self._aliases.items() if title in titles}
        exact_alias = [title for name, title in aliases.items() if _norm(name) == v]
        if exact_alias:
            return exact_alias[0]
        partial_alias = {title for name, title in aliases.items() if v and v in _norm(name)}
        if len(partial_alias) == 1:
            return partial_alias.pop()
        exact = [t for t in titles if _norm(t) == v]
        if exact:
            return exact[0]
        partial = [t for t in titles if v and v in _norm(t)]
        if len(partial) == 1:
            return partial[0]
        spanish = f" (or in Spanish: {'; '.join(sorted(aliases))})" if aliases else ""
        raise InvalidQueryError(
            f"{kind} {shown(value)} matches {'several' if partial else 'no'} {kind.replace('_', ' ')}s; "
            f"valid: {'; '.join(partial or titles)}{spanish}"
        )

    def _value(self, spec: FilterSpec, value: str) -> str:
        """The value ``value`` names for ``spec``: an id, a section title or a number; refused if none."""
        valid = self._values(spec)
        if spec.match == "document":
            if value not in self.index.documents:
                raise InvalidQueryError(f"document {shown(value)} does not exist; valid: {', '.join(valid)}")
            return value
        if spec.match == "title":
            return self._resolve_title(spec.name, value)
        number = value.strip()
        if number not in valid:
            raise InvalidQueryError(f"{spec.name} {shown(value)} matches nothing; valid: {', '.join(valid)}")
        return number

    def rows(self, spec: FilterSpec, value: str) -> np.ndarray:
        """The passages (ascending row numbers) whose report is, or whose paths pass through, ``value``."""
        if spec.name not in self._rows:  # a kind marked as a filter after this index was loaded
            self._rows.update(_value_rows(self.index.passages, [spec]))
        return self._rows[spec.name].get(value, _NO_ROWS)

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of the passages the filters allow (None: no filter).

        Each filter value's passages are listed once, when the index loads
        (``_value_rows``), so a filtered search costs one array operation per
        filter instead of a Python loop over every passage.
        """
        if not filters:
            return None
        specs = {s.name: s for s in filter_specs()}
        unknown = [name for name in filters if name not in specs]
        if unknown:
            raise InvalidQueryError(f"unknown filter {shown(unknown[0])}; valid: {', '.join(specs)}")
        chosen = [(spec, self._value(spec, filters[name])) for name, spec in specs.items() if name in filters]
        mask = np.ones(len(self.index.passages), dtype=bool)
        for spec, value in chosen:
            allowed = np.zeros(len(mask), dtype=bool)
            allowed[self.rows(spec, value)] = True
            mask &= allowed
        if not mask.any():
            raise InvalidQueryError("these filters together match no passage; loosen one of them")
        return mask


_NO_ROWS = np.zeros(0, dtype=np.int64)


def _value_rows(passages: Sequence[Passage], specs: Sequence[FilterSpec]) -> dict[str, dict[str, np.ndarray]]:
    """For each filter, each value's passages as ascending row numbers: one pass over the passages.

    A passage is in a report's rows if it is that report's; in a section
    kind's value's rows if one of its paths has an element of that kind with
    that title (title filters) or number (number filters). Passages share
    their path tuples (``index.persist``), so each distinct path is read once.
    """
    matches = {s.name: s.match for s in specs}
    rows: dict[str, dict[str, list[int]]] = {s.name: {} for s in specs}
    keys_of_path: dict[int, list[tuple[str, str]]] = {}
    for i, p in enumerate(passages):
        keys: set[tuple[str, str]] = set()
        if "document" in matches:
            keys.add(("document", p.document_id))
        for path in p.paths:
            found = keys_of_path.get(id(path))
            if found is None:
                found = keys_of_path[id(path)] = _path_keys(path, matches)
            keys.update(found)
        for name, value in keys:
            rows[name].setdefault(value, []).append(i)
    return {name: {v: np.array(r, dtype=np.int64) for v, r in by.items()} for name, by in rows.items()}


def _path_keys(path: Sequence[Any], matches: dict[str, str]) -> list[tuple[str, str]]:
    """(filter, value) of each element of ``path`` whose kind is a title or number filter."""
    out = []
    for el in path:
        match = matches.get(el.kind)
        if match == "title":
            out.append((el.kind, el.title))
        elif match == "number" and el.number is not None:
            out.append((el.kind, el.number))
    return out


def filter_names() -> Sequence[str]:
    """The filters' names (``document`` first)."""
    return [s.name for s in filter_specs()]
