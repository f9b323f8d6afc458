"""Fusion methods on small arrays whose results are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import UnknownVariantError
from qa.fusion import convex, get_fusion, rrf

INF = np.inf


def test_rrf_sums_reciprocal_ranks_of_the_legs_that_ranked_a_passage() -> None:
    lexical = np.array([3.0, 1.0, -INF])  # ranks 1, 2, -
    dense = np.array([0.1, 0.9, 0.5])  # ranks 3, 1, 2
    fused = rrf([lexical, dense], k=60)
    assert fused[0] == pytest.approx(1 / 61 + 1 / 63)
    assert fused[1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)


def test_rrf_marks_passages_no_leg_retrieved_as_minus_infinity() -> None:
    fused = rrf([np.array([1.0, -INF]), np.array([2.0, -INF])])
    assert fused[1] == -INF


def test_convex_weights_min_max_normalised_scores() -> None:
    lexical = np.array([4.0, 2.0, 0.0])  # normalised 1, 0.5, 0
    dense = np.array([0.2, 0.6, 1.0])  # normalised 0, 0.5, 1
    fused = convex([lexical, dense], weights=[0.3, 0.7])
    assert fused == pytest.approx([0.3, 0.5, 0.7])


def test_unknown_fusion_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownVariantError, match="valid: convex, rrf"):
        get_fusion("borda")
