"""What determines an index's contents, as a fingerprint compared without loading anything.

A build is skipped when the fingerprint (corpus hash, pipeline code hash,
model identities, the adaptation's key, chunking limits, format version)
equals the live index's. Computing it imports neither torch nor FAISS, so
the server can ask ``is_up_to_date`` in milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.errors import CorruptIndexError
from core.settings import Settings
from corpus import corpus_hash
from index.adapt import adapted_id
from index.chunk import CHUNKER_VERSION
from index.code import code_hash
from index.embed import e5_fingerprint
from index.persist import FORMAT_VERSION
from index.snapshots import read_manifest
from index.weights import weights_digest

if TYPE_CHECKING:
    from index.embed import Embedder

__all__ = ["fingerprint", "is_up_to_date"]

# The code whose output lands in the index: change it and the index is stale.
_PIPELINE_CODE = ("corpus", "index")


def _model_fingerprint(settings: Settings) -> str:
    # The on-disk model's identity, as SentenceTransformerEmbedder.fingerprint gives it, without
    # loading it: a digest of its files' bytes (remembered by size and mtime, index.weights).
    digest = weights_digest(settings.model_path, settings.embedding_cache / "weights.json")
    return f"{settings.model_name}@{settings.model_max_wordpieces}#{digest}"


def fingerprint(
    settings: Settings, embedder: Embedder | None = None, multilingual: Embedder | None = None
) -> dict[str, Any]:
    """Everything that determines the index contents: both models included, and MiniLM's adaptation.

    The adapted model is named by its key (what it is trained from, ``index.adapt.adapt_key``, and
    its interpolation with the bundled one, ``index.adapt.adapted_id``), computed without training
    or loading anything; a given embedder (tests' fake) is never adapted.
    """
    adapted = adapted_id(settings) if settings.adapt and embedder is None else None
    return {
        "adapted": adapted,
        "format": FORMAT_VERSION,
        "corpus_hash": corpus_hash(settings.corpus_dir),
        "code_hash": code_hash(_PIPELINE_CODE),
        "chunker": CHUNKER_VERSION,
        "chunk_tokens": settings.chunk_tokens,
        "context_tokens": settings.context_tokens,
        "model": embedder.fingerprint if embedder is not None else _model_fingerprint(settings),
        "multilingual_model": multilingual.fingerprint if multilingual is not None else e5_fingerprint(),
        "dense_index": [
            settings.ann_min_passages,
            settings.hnsw_m,
            settings.hnsw_ef_construction,
            settings.hnsw_ef_search,
            settings.hnsw_ef_search_multilingual,
        ],
    }


def is_up_to_date(settings: Settings, embedder: Embedder | None = None) -> bool:
    """Whether ``build_index(settings, embedder, check_files=False)`` would build nothing.

    The fingerprint against the live manifest only: no lock, no torch, milliseconds. The
    server asks it before starting a build process it would not need.
    """
    try:
        current = read_manifest(settings.index_dir)
    except CorruptIndexError:
        return False
    return current is not None and current.get("fingerprint") == fingerprint(settings, embedder, embedder)
