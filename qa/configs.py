"""Retrieval configurations: named sets of legs, with or without section routing.

Evaluators compare them on one index (``policyqa eval --config NAME``). A
configuration names its legs as data; the legs that serve a question (by
its language) are fused, and a lone leg ranks by its own scores. Adding one
is a ``register_config`` call, here or in any module.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.registry import Registry

__all__ = ["CONFIGS", "DEFAULT_CONFIG", "Config", "get_config", "register_config"]


@dataclass(frozen=True, slots=True)
class Config:
    """A named retrieval configuration: which legs (``qa.legs`` names), and whether to route."""

    name: str
    legs: tuple[str, ...]
    routing: bool
    description: str


CONFIGS: Registry[Config] = Registry("retrieval configuration")


def register_config(config: Config) -> Config:
    """Make ``config`` selectable by name (replacing any of that name)."""
    return CONFIGS.register(config.name, config)


def get_config(name: str) -> Config:
    """The configuration called ``name``; the error lists the valid names."""
    return CONFIGS.get(name)


_SEMANTIC = ("dense", "multilingual")  # MiniLM for English, multilingual-e5 for other languages
for _config in (
    Config("bm25", ("lexical",), False, "BM25 only (bm25s, English stemming and stopwords)"),
    Config("dense", _SEMANTIC, False, "MiniLM embeddings in FAISS only (multilingual-e5 for other languages)"),
    Config("hybrid", ("lexical", *_SEMANTIC), False, "BM25 + dense, fused"),
    Config("routed", ("lexical", *_SEMANTIC), True, "hybrid, with sections named by number routed first"),
):
    register_config(_config)

DEFAULT_CONFIG = "routed"
