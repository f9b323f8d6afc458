"""Compare the build's int8 ONNX MiniLM export with torch: cosines of the same texts' vectors.

Usage: .venv/bin/python scripts/compare_query_encoders.py [--passages N]

Encodes the English gold questions with both encoders, and N passages (their
embedded text, as the index stores it) with the ONNX one against the torch
vectors in the index, and prints the mean and minimum cosine of each. The
ranking effect is measured separately: `policyqa eval --config routed` with
POLICYQA_QUERY_ENCODER=torch and =onnx-int8.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=500, help="how many passages to compare (evenly spaced)")
    args = parser.parse_args()

    from core.settings import get_settings
    from eval.gold import GOLD_PATH, load_gold_sets
    from index.embed import SentenceTransformerEmbedder
    from index.onnx_query import ONNX_QUERY_ENCODER, OnnxQueryEmbedder
    from index.store import load_index

    settings = get_settings()
    index = load_index(settings.index_dir)
    adapted = (index.manifest.get("adapted") or {}).get("model_dir")  # the model the index was built with
    torch_model = SentenceTransformerEmbedder.from_settings(settings, for_queries=True, model_path=adapted)
    onnx = OnnxQueryEmbedder(index.root / ONNX_QUERY_ENCODER, settings.model_path, settings.model_name)
    questions = [q.question for q in load_gold_sets([GOLD_PATH])]
    rows = np.linspace(0, len(index.passages) - 1, min(args.passages, len(index.passages))).astype(int)
    stored = np.vstack([index.dense.reconstruct(int(i)) for i in rows])
    passages = onnx.encode([index.passages[i].embed_text for i in rows])
    for what, a, b in (
        (f"{len(questions)} gold questions", torch_model.encode(questions), onnx.encode(questions)),
        (f"{len(rows)} passages (vs the index's torch vectors)", stored, passages),
    ):
        cos = np.sum(a * b, axis=1)
        print(f"{what}: cosine mean {cos.mean():.4f}, min {cos.min():.4f}, 1st percentile {np.percentile(cos, 1):.4f}")
    for name, model in (("torch", torch_model), ("onnx-int8", onnx)):
        for q in questions[:20]:
            model.encode([q])
        t0 = time.perf_counter()
        for q in questions:
            model.encode([q])
        print(f"{name}: {1000 * (time.perf_counter() - t0) / len(questions):.1f} ms per question (one thread)")


if __name__ == "__main__":
    main()
