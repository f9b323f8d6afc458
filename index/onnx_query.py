"""MiniLM's int8 ONNX query encoder: exported by each build, run at query time without torch.

A question is one short text: onnxruntime on one thread encodes it in a few
milliseconds, where torch would need to be imported and warmed up in every
server worker.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import IndexStoreError

__all__ = ["ONNX_QUERY_ENCODER", "OnnxQueryEmbedder", "export_query_onnx"]

ONNX_QUERY_ENCODER = "query_encoder.int8.onnx"
"""The file name of the int8 ONNX export of MiniLM in each snapshot (written by the build)."""


def export_query_onnx(model: Any, out_dir: Path) -> Path:
    """Export a sentence-transformers MiniLM ``model`` for queries to ONNX, quantized to int8; the file's path.

    ``torch.onnx.export`` with the TorchScript exporter (dynamo off) of the
    transformer with mean pooling and L2 normalisation in the graph, so
    the ONNX model returns what ``encode`` returns; then onnxruntime's
    ``quantize_dynamic`` (int8 weights, per channel). Nothing is downloaded.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    transformer = model[0].auto_model.eval()

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

    sample = model.tokenizer(["a sample question"], return_tensors="pt")
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
