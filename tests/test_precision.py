"""The build's float format: bfloat16 where the CPU has it (or forced), float32 otherwise, and the vectors it gives."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from core.settings import Settings
from index.precision import uses_bfloat16

MINILM_BFLOAT16_COSINE = 0.9999
"""The least cosine between MiniLM's bfloat16 and float32 vectors of a corpus passage (measured: 0.99998)."""


@pytest.mark.parametrize(
    ("precision", "model", "native", "expected"),
    [
        ("auto", "e5", True, True),
        ("auto", "e5", False, False),
        ("auto", "minilm", True, False),
        ("float32", "e5", True, False),
        ("bfloat16", "minilm", False, True),
        ("bfloat16", "e5", False, True),
    ],
)
def test_precision_resolves_by_setting_model_and_cpu(precision: str, model: str, native: bool, expected: bool) -> None:
    assert uses_bfloat16(precision, model, native=native) is expected  # type: ignore[arg-type]


def test_auto_keeps_the_minilm_build_encoder_in_float32() -> None:
    from index.embed import SentenceTransformerEmbedder

    assert SentenceTransformerEmbedder.from_settings(Settings(embed_precision="auto")).bfloat16 is False


def test_an_unknown_precision_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="embed_precision"):
        Settings(embed_precision="float16")  # type: ignore[arg-type]


@pytest.mark.parametrize(("precision", "runtime"), [("float32", "onnx"), ("bfloat16", "bfloat16")])
def test_the_multilingual_build_encoder_follows_the_precision(precision: str, runtime: str) -> None:
    from index.embed import multilingual_passage_embedder

    embedder = multilingual_passage_embedder(Settings(embed_precision=precision))  # type: ignore[arg-type]
    assert embedder.runtime == runtime  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def passages() -> list[str]:
    from index.build import collect_passages

    _, parsed = collect_passages(Settings())
    rng = np.random.default_rng(18)
    return [parsed[i].embed_text for i in rng.choice(len(parsed), 64, replace=False)]


@pytest.mark.e2e
def test_minilm_in_bfloat16_gives_float32s_vectors_within_the_bound(passages: list[str]) -> None:
    from index.embed import SentenceTransformerEmbedder

    half = SentenceTransformerEmbedder.from_settings(Settings(embed_precision="bfloat16"))
    full = SentenceTransformerEmbedder.from_settings(Settings(embed_precision="float32"))
    a, b = half.encode(passages), full.encode(passages)
    assert not np.array_equal(a, b)  # bfloat16 did run: its rounding shows
    assert float((a * b).sum(axis=1).min()) >= MINILM_BFLOAT16_COSINE


@pytest.mark.e2e
def test_query_encoding_stays_float32_whatever_the_build_precision() -> None:
    from index.embed import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder.from_settings(Settings(embed_precision="bfloat16"), for_queries=True)
    assert embedder.bfloat16 is False
