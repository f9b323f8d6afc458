"""What a retrieval leg is, and the registry configurations name legs from.

A leg scores every passage of one loaded index for one query: BM25, MiniLM
cosine, multilingual-e5 cosine, or any later signal. It says whether it
serves a query (the MiniLM leg reads English, the e5 leg the rest), what
share it takes in convex fusion, and under which name its score shows in a
hit's ``scores``. Adding a leg is one module that calls ``register_leg``;
a configuration (``qa.configs``) then names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from core.registry import Registry

if TYPE_CHECKING:
    from index.store import StoredIndex

__all__ = ["LEGS", "Leg", "LegFactory", "LegQuery", "get_leg", "register_leg"]


@dataclass(frozen=True, slots=True)
class LegQuery:
    """One text to score (a question, or the topic of a routed one), as every leg sees it.

    ``english`` is a non-English question's English (``qa.translate``), None
    without a translator or for English. ``vector()`` is the text's
    embedding in its language's model (MiniLM for English, multilingual-e5
    otherwise), encoded at most once per request whichever legs ask.
    """

    text: str
    language: str
    english: str | None
    vector: Callable[[], np.ndarray]


@runtime_checkable
class Leg(Protocol):
    """Scores passages for a query under filters."""

    @property
    def component(self) -> str:
        """The name its score has in a hit's ``scores`` ("bm25", "dense")."""
        ...

    def applies(self, query: LegQuery) -> bool:
        """Whether this leg serves the query (a language it reads)."""
        ...

    def weight(self, query: LegQuery) -> float:
        """Its share in convex fusion for this query (legs' weights are used as given)."""
        ...

    def scores(self, query: LegQuery, mask: np.ndarray | None) -> np.ndarray:
        """One float32 score per passage; ``-inf`` for a passage not retrieved or outside ``mask``."""
        ...


LegFactory = Callable[["StoredIndex"], Leg]
"""Makes a leg over one loaded index (once per index: a reload makes new ones)."""

LEGS: Registry[LegFactory] = Registry("retrieval leg")


def register_leg(name: str, factory: LegFactory) -> LegFactory:
    """Make ``name`` a leg configurations can name (replacing any leg of that name)."""
    return LEGS.register(name, factory)


def get_leg(name: str) -> LegFactory:
    """The factory of the leg called ``name``; the error lists the valid names."""
    return LEGS.get(name)
