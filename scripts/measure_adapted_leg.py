"""The adapted MiniLM as a second dense leg beside the bundled one, measured without building it.

Issue 20, run (c) in docs/adaptation-experiments.md. Runs ``policyqa eval`` on
the bundled model's index (``POLICYQA_DATA_DIR``, built with
``POLICYQA_ADAPT=false``) with the dense leg's score replaced by
``(1 - W) * bundled cosine + W * adapted cosine``: the adapted cosine is read
from another build's index (``ENS_ADAPTED_DATA``, a data dir built with
``POLICYQA_ADAPT=true``, same corpus) and its int8 ONNX query encoder.
Answers still use the bundled model's unit vectors. Measurement only.

    POLICYQA_ADAPT=false POLICYQA_DATA_DIR=data/base ENS_ADAPTED_DATA=data/w100 ENS_WEIGHT=0.5 \\
        .venv/bin/python scripts/measure_adapted_leg.py eval --config routed --split dev --out eval/out/ens-w
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from core.settings import get_settings
from index.store import StoredIndex, load_index
from qa.encode import query_embedder
from qa.legs.base import LegQuery, register_leg
from qa.legs.dense import DenseLeg

WEIGHT = float(os.environ.get("ENS_WEIGHT", "0.5"))
_adapted_settings = get_settings().model_copy(update={"data_dir": Path(os.environ["ENS_ADAPTED_DATA"]), "adapt": True})
_adapted = load_index(_adapted_settings.index_dir)
_encoder = query_embedder(_adapted_settings, _adapted)
_vectors: dict[str, np.ndarray] = {}


class EnsembleDense(DenseLeg):
    """The bundled model's cosine averaged with the adapted model's, passage by passage."""

    def __init__(self, index: StoredIndex) -> None:
        super().__init__(index)
        if [p.id for p in index.passages] != [p.id for p in _adapted.passages]:
            raise SystemExit("the two indexes hold different passages: build both from the same corpus and code")

    def scores(self, query: LegQuery, mask: np.ndarray | None) -> np.ndarray:
        bundled = super().scores(query, mask)
        if query.text not in _vectors:
            _vectors[query.text] = _encoder.encode([query.text])[0]
        adapted = _adapted.dense_scores(_vectors[query.text], mask)
        return ((1.0 - WEIGHT) * bundled + WEIGHT * adapted).astype(np.float32)


if __name__ == "__main__":
    print(f"adapted index {_adapted.root}: {_adapted.manifest.get('adapted')}", file=sys.stderr)
    register_leg("dense", EnsembleDense)
    from cli.main import app

    app(prog_name="policyqa")
