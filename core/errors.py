"""The product's error hierarchy.

Library errors (FAISS, sentence-transformers, file system) are caught at the
stage boundary and re-raised as one of these, so callers (CLI, API) map a
small, named set of failures to exit codes and HTTP statuses.
"""

from __future__ import annotations

import re

__all__ = [
    "CorpusError",
    "CorruptIndexError",
    "DiskFullError",
    "EvaluationError",
    "ExtractionError",
    "IndexMissingError",
    "IndexStoreError",
    "InvalidQueryError",
    "NotFoundError",
    "PolicyQAError",
    "SettingsError",
    "UnknownVariantError",
    "check_text",
    "public_reason",
    "shown",
]


SHOWN_CHARS = 80
"""How much of a user's value an error message repeats: enough to recognise, never a 60 KB echo."""


def shown(value: object) -> str:
    """``repr`` of a user-supplied value for an error message, cut to ``SHOWN_CHARS`` characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[: SHOWN_CHARS - 1]}…' ({len(str(value))} characters)"


def check_text(value: str, what: str = "query") -> str:
    """``value`` if it is valid Unicode text, else ``InvalidQueryError``.

    A lone UTF-16 surrogate (``"\\ud83d"`` in JSON) cannot be encoded and
    crashes the tokenizer; U+FFFD is what invalid UTF-8 in a URL decodes to.
    Neither is a question: one rule for every surface (REST, chat, MCP, CLI).
    """
    if "\ufffd" in value:
        raise InvalidQueryError(f"{what} is not valid UTF-8 text; send the question as UTF-8")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQueryError(f"{what} is not valid Unicode text (it holds a lone surrogate)") from None
    return value


def public_reason(exc: BaseException) -> str:
    """What a client may be told of ``exc``: its own words without absolute paths or library internals.

    A path shows as its last part (``dense.faiss``); a library's message, which
    our errors append after ``": "`` where they translate it, is left to the log.
    """
    text = _ABSOLUTE_PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], str(exc))
    cut = isinstance(exc, IndexStoreError) and not isinstance(exc, DiskFullError)
    return text.split(": ", 1)[0] if cut else text


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/[^\s:'\"`]+")


class PolicyQAError(Exception):
    """Base of every error this product raises on purpose."""


class SettingsError(PolicyQAError):
    """The configuration is invalid (bad path, bad limit)."""


class CorpusError(PolicyQAError):
    """A report or the catalog cannot be read or parsed."""


class ExtractionError(CorpusError):
    """A report file whose text cannot be extracted: empty, corrupt, encrypted, scanned without OCR, no text."""


class EvaluationError(PolicyQAError):
    """The evaluation cannot run: an invalid gold set, or a service that does not answer."""


class IndexStoreError(PolicyQAError):
    """The index cannot be built, written or read."""


class IndexMissingError(IndexStoreError):
    """No index has been built yet; run ``policyqa build``."""


class CorruptIndexError(IndexStoreError):
    """An index file is missing, truncated or changed since its build; ``policyqa build`` repairs it."""


class DiskFullError(IndexStoreError):
    """The data dir has no room for a build: one whole line, how much it needs (no library text after it)."""


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
        super().__init__(f"unknown {what} {shown(name)}; valid: {', '.join(self.valid)}")
