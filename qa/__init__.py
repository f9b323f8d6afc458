"""policyqa core: the shared types, errors and settings, and the retriever.

Types and errors are imported eagerly (they depend on nothing); the
retriever loads on first use, so that the ``corpus`` and ``index`` stages can
import ``qa.types`` without pulling in numpy, torch or FAISS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa.errors import (
    CorpusError,
    IndexMissingError,
    IndexStoreError,
    InvalidQueryError,
    NotFoundError,
    PolicyQAError,
    SettingsError,
    UnknownVariantError,
)
from qa.types import Document, Filters, Hit, ParsedDocument, Passage, PathElement, Section

if TYPE_CHECKING:
    from qa.retrieve import Retriever
    from qa.settings import Settings, get_settings

__all__ = [
    "CorpusError",
    "Document",
    "Filters",
    "Hit",
    "IndexMissingError",
    "IndexStoreError",
    "InvalidQueryError",
    "NotFoundError",
    "ParsedDocument",
    "Passage",
    "PathElement",
    "PolicyQAError",
    "Retriever",
    "Section",
    "Settings",
    "SettingsError",
    "UnknownVariantError",
    "get_settings",
]

_LAZY = {"Retriever": "qa.retrieve", "Settings": "qa.settings", "get_settings": "qa.settings"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
