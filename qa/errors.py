"""The product's error hierarchy.

Library errors (FAISS, sentence-transformers, file system) are caught at the
stage boundary and re-raised as one of these, so callers (CLI, API) map a
small, named set of failures to exit codes and HTTP statuses.
"""

from __future__ import annotations

__all__ = [
    "CorpusError",
    "EvaluationError",
    "IndexMissingError",
    "IndexStoreError",
    "InvalidQueryError",
    "NotFoundError",
    "PolicyQAError",
    "SettingsError",
    "UnknownVariantError",
]


class PolicyQAError(Exception):
    """Base of every error this product raises on purpose."""


class SettingsError(PolicyQAError):
    """The configuration is invalid (bad path, bad limit)."""


class CorpusError(PolicyQAError):
    """A report or the catalog cannot be read or parsed."""


class EvaluationError(PolicyQAError):
    """The evaluation cannot run: an invalid gold set, or a service that does not answer."""


class IndexStoreError(PolicyQAError):
    """The index cannot be built, written or read."""


class IndexMissingError(IndexStoreError):
    """No index has been built yet; run ``policyqa build``."""


class InvalidQueryError(PolicyQAError):
    """A query or filter the user must fix (empty, too long, unknown filter value)."""


class NotFoundError(PolicyQAError):
    """An id (document, section, passage) that does not exist."""


class UnknownVariantError(PolicyQAError, ValueError):
    """A variant (fusion method, retriever, scheme) asked for by an unknown name."""

    def __init__(self, what: str, name: str, valid: list[str] | tuple[str, ...]) -> None:
        self.what = what
        self.name = name
        self.valid = tuple(sorted(valid))
        super().__init__(f"unknown {what} {name!r}; valid: {', '.join(self.valid)}")
