"""Placeholder: parsed as generic markdown until the honlac scheme lands."""

from __future__ import annotations

from corpus._tree import Node
from qa.types import Document

from . import generic

__all__ = ["parse"]


def parse(text: str, document: Document) -> list[Node]:
    return generic.parse(text, document)
