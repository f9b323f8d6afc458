"""Numbering schemes: one parser per way a report numbers its sections.

A parser is a pure function ``(text, document) -> list[Node]``. Adding a
report with a new numbering scheme means adding one module here and one
entry to ``SCHEMES``.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import UnknownVariantError
from core.types import Document
from corpus._tree import Node

from . import binational, elementa, generic, honlac, inl, mem

__all__ = ["SCHEMES", "Parser", "get_parser"]

Parser = Callable[[str, Document], list[Node]]

SCHEMES: dict[str, Parser] = {
    "mem": mem.parse,
    "binational": binational.parse,
    "honlac": honlac.parse,
    "elementa": elementa.parse,
    "inl": inl.parse,
    "generic": generic.parse,
}


def get_parser(scheme: str) -> Parser:
    """The parser registered for ``scheme``; the error lists the valid names."""
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise UnknownVariantError("numbering scheme", scheme, list(SCHEMES)) from None
