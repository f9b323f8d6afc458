"""The adapted MiniLM as a second dense leg of its own, fused (convex) beside the bundled one's.

Issue 20, fourth round in docs/adaptation-experiments.md. Unlike
``scripts/measure_adapted_leg.py``, which mixes the two cosines inside one
leg, this adds a leg: each is min-max normalised apart in the fusion, the
dense weight (0.7) shared, ``ENS_W`` of it for the adapted leg. It reads the
bundled model's index (``POLICYQA_DATA_DIR``, built with
``POLICYQA_ADAPT=false``) and another build's (``ENS_OTHER``: the adapted
build's snapshot directory, same corpus) with its query encoder, and runs the
``policyqa`` command line with configuration ``ens``. Measurement only.

    POLICYQA_ADAPT=false POLICYQA_DATA_DIR=data/base ENS_OTHER=data/l5100/current ENS_W=0.5 \\
        .venv/bin/python scripts/measure_second_dense_leg.py eval --config ens --split dev
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from core.settings import get_settings
from qa.configs import Config, register_config
from qa.legs import dense
from qa.legs.base import LegQuery, register_leg
from qa.retrieve import Retriever

W = float(os.environ.get("ENS_W", "0.5"))
other = Retriever.open(get_settings(), root=Path(os.environ["ENS_OTHER"]))


class BundledDense(dense.DenseLeg):
    """The bundled model's dense leg at its share of the dense weight."""

    def weight(self, query: LegQuery) -> float:
        return dense.WEIGHT * (1 - W)


class AdaptedDense:
    """The adapted build's dense scores, its own query vector, as one more leg."""

    component = "dense_adapted"

    def __init__(self, index: object) -> None:
        assert [p.id for p in index.passages] == [p.id for p in other.index.passages]  # type: ignore[attr-defined]

    def applies(self, query: LegQuery) -> bool:
        return query.language == "en"

    def weight(self, query: LegQuery) -> float:
        return dense.WEIGHT * W

    def scores(self, query: LegQuery, mask: np.ndarray | None) -> np.ndarray:
        also = other.index.bm25_scores(query.text) if other.index.approximate else None
        return other.index.dense_scores(other.encode_query(query.text, "en"), mask, also=also)


register_leg("dense_bundled_share", BundledDense)
register_leg("dense_adapted", AdaptedDense)
register_config(Config("ens", ("lexical", "dense_bundled_share", "dense_adapted", "multilingual"), True, "two dense"))

from cli.main import app  # noqa: E402

app(prog_name="policyqa")
