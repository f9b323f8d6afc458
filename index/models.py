"""Loading a build's MiniLM: the configured model, its copy adapted to the reports, or a given fake.

Imported only when a build is needed: a no-op build never pays for
importing torch. ``cached_minilm`` is what the build's loader thread runs
(``index.build``), so torch's import overlaps the parsing and multilingual-e5.
"""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from index.adapt import Adapted, adapted_id, ensure_adapted
from index.chunk import collect_passages
from index.embed import Embedder
from index.embed_cache import CachedEmbedder
from index.timing import timed

__all__ = ["cached_minilm", "load_minilm"]


def load_minilm(
    settings: Settings, given: Embedder | None, trained: Adapted | None = None
) -> tuple[Embedder, Adapted | None, Any]:
    """(MiniLM, the adaptation, the parsed corpus if adapting needed it): ``given``, or loaded now.

    Loaded only when a build is needed: a no-op build never pays for importing torch. ``trained``
    is the adapted model a two-stage build trained before this stage (``index.stages``), used if
    it is still this corpus's (an add during the training changes the key).
    """
    if given is not None:
        return given, None, None
    from index.embed import SentenceTransformerEmbedder

    if settings.adapt and trained is not None and trained.key == adapted_id(settings):
        return SentenceTransformerEmbedder.from_settings(settings, model_path=str(trained.model_dir)), trained, None
    if settings.adapt:
        # MiniLM adapted to the reports (index.adapt): trained from the parsed corpus, or reused.
        parsed = collect_passages(settings)
        adapted = ensure_adapted(settings, *parsed)
        return SentenceTransformerEmbedder.from_settings(settings, model_path=str(adapted.model_dir)), adapted, parsed
    return SentenceTransformerEmbedder.from_settings(settings), None, None


def cached_minilm(settings: Settings, timings: dict[str, Any]) -> CachedEmbedder:
    """MiniLM loaded (in the loader thread) behind its embedding cache; the load's seconds as ``minilm_load``."""
    with timed(timings, "minilm_load"):
        model, _, _ = load_minilm(settings, None)
        return CachedEmbedder(model, settings.embedding_cache)
