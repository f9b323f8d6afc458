"""One wording for input that fails its schema, on every surface (REST 422s, MCP tool errors)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["field_errors"]


def field_errors(errors: Iterable[Mapping[str, Any]], *, located: bool = False) -> str:
    """``"query: String should have at least 1 character"``: the field and the fix, one per error.

    ``errors`` are pydantic's (``ValidationError.errors()``); ``located``
    when each starts with where the field was sent (FastAPI's: body, query
    string), which adds nothing to what to fix and is dropped. The rejected
    value and pydantic's documentation link are never repeated.
    """
    parts = []
    for e in errors:
        loc = list(e["loc"])
        if located and loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        where = ".".join(str(x) for x in loc) or "body"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)
