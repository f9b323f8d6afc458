"""The adapted MiniLM in real builds: reused by a second build and by another interpolation weight,
retrained for a changed corpus; and another model path re-embeds. On a one-report corpus (the INL
fact sheet), so training takes seconds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.settings import PROJECT_ROOT, Settings
from index.build import build_index
from index.embed import SentenceTransformerEmbedder
from index.store import StoredIndex, load_index

pytestmark = pytest.mark.e2e

_REPORT = "state-inl-mexico-fact-sheet-2005"  # the one report of conftest's small_corpus


def _vectors(index: StoredIndex) -> np.ndarray:
    """The passages' MiniLM vectors, as the FAISS index holds them."""
    return np.array(index.dense.reconstruct_n(0, index.dense.ntotal))


def _assert_embedded_by(
    vectors: np.ndarray, embedder: SentenceTransformerEmbedder, texts: list[str], *, not_by: np.ndarray
) -> None:
    """``vectors`` are ``embedder``'s for ``texts`` (each within 0.9999 cosine: bfloat16 builds round
    differently for other batch shapes), and far nearer them than ``not_by``, another model's vectors."""
    expected = embedder.encode(texts)
    assert float(np.einsum("ij,ij->i", vectors, expected).min()) >= 0.9999
    assert np.abs(vectors - expected).max() < np.abs(vectors - not_by).max() / 4


def _settings(data: Path, corpus: Path, **overrides: object) -> Settings:
    cache = PROJECT_ROOT / ".cache" / "embeddings"  # e5's vectors of earlier sessions are reused
    return Settings(data_dir=data, corpus_dir=corpus, embedding_cache_dir=cache, **overrides)  # type: ignore[arg-type]


def test_a_second_build_reuses_the_adapted_model_and_a_changed_report_retrains_it(
    tmp_path: Path, small_corpus: Path
) -> None:
    # Three steps: with one, the warm-up keeps the learning rate at zero and the weights unchanged.
    settings = _settings(tmp_path / "data", small_corpus, adapt=True, adapt_epochs=3, adapt_interpolate=1.0)
    assert build_index(settings).built
    first = load_index(settings.index_dir).manifest["adapted"]
    assert first["trained_here"] and first["pairs"] > 0
    # The passages are embedded by the adapted model, not the bundled one.
    index = load_index(settings.index_dir)
    adapted = SentenceTransformerEmbedder.from_settings(settings, model_path=first["model_dir"])
    texts = [p.embed_text for p in index.passages]
    bundled = SentenceTransformerEmbedder.from_settings(settings).encode(texts)
    _assert_embedded_by(_vectors(index), adapted, texts, not_by=bundled)

    assert build_index(settings, force=True).built
    second = load_index(settings.index_dir).manifest["adapted"]
    assert not second["trained_here"]
    assert (second["key"], second["model_dir"]) == (first["key"], first["model_dir"])

    # Another interpolation weight reuses the training, and the index is embedded by the mix.
    mixed = settings.model_copy(update={"adapt_interpolate": 0.5})
    assert build_index(mixed).built  # the fingerprint names the mix: not up to date
    half = load_index(mixed.index_dir).manifest["adapted"]
    assert not half["trained_here"] and half["key"] == f"{first['key']}-wise50"
    index = load_index(mixed.index_dir)
    embedder = SentenceTransformerEmbedder.from_settings(settings, model_path=half["model_dir"])
    _assert_embedded_by(_vectors(index), embedder, texts, not_by=bundled)
    # ... whose weights are halfway between the bundled model's and the trained one's.
    from safetensors.numpy import load_file

    weights = [load_file(str(Path(d) / "model.safetensors")) for d in (settings.model_path, first["model_dir"])]
    half_weights = load_file(str(Path(half["model_dir"]) / "model.safetensors"))
    for name, tensor in half_weights.items():
        if tensor.dtype == np.float32:
            assert np.allclose(tensor, (weights[0][name] + weights[1][name]) / 2, atol=1e-6), name

    with (small_corpus / f"{_REPORT}.txt").open("a", encoding="utf-8") as f:
        f.write("\nMexico and the United States agreed to share more intelligence on precursor chemicals.\n")
    assert build_index(settings).built  # the corpus changed: not up to date
    third = load_index(settings.index_dir).manifest["adapted"]
    assert third["trained_here"] and third["key"] != first["key"]


def _perturbed_copy(model_path: str, out: Path) -> Path:
    """The bundled MiniLM with one layer's weights scaled: another model under the same name and sizes."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(model_path, out)
    tensors = load_file(str(out / "model.safetensors"))
    name = next(n for n in sorted(tensors) if n.endswith("layer.5.output.dense.weight"))
    tensors[name] = tensors[name] * 1.5
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


def test_policyqa_build_with_another_model_path_re_embeds(tmp_path: Path, small_corpus: Path) -> None:
    base = _settings(tmp_path / "data", small_corpus, adapt=False)
    build_index(base)
    before = _vectors(load_index(base.index_dir))
    other = _perturbed_copy(base.model_path, tmp_path / "other-model")
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(base.data_dir),
        "POLICYQA_CORPUS_DIR": str(small_corpus),
        "POLICYQA_EMBEDDING_CACHE_DIR": str(base.embedding_cache),
        "POLICYQA_MODEL_PATH": str(other),
        "POLICYQA_ADAPT": "false",
    }
    subprocess.run([sys.executable, "-m", "cli", "build"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    index = load_index(base.index_dir)
    after = _vectors(index)
    assert not np.allclose(after, before, atol=1e-3)
    embedder = SentenceTransformerEmbedder.from_settings(base, model_path=str(other))
    _assert_embedded_by(after, embedder, [p.embed_text for p in index.passages], not_by=before)


_PAIRS = [
    (
        "who pays for the anti-drug programme",
        "The Merida Initiative funds equipment and training for Mexican agencies.",
    ),
    (
        "where do the seized chemicals go",
        "Precursor chemicals seized at ports are destroyed under federal supervision.",
    ),
    ("how many addicts get treatment", "Treatment centres served forty thousand people with substance use disorders."),
    ("what the two governments promised", "Both governments commit to share intelligence on trafficking routes."),
    ("money laundering rules", "Financial intelligence units report suspicious transactions to prosecutors."),
    ("soldiers on the streets", "The armed forces took over public security tasks from civilian police."),
    (
        "help for the families of the disappeared",
        "Relatives of missing persons receive legal and psychological support.",
    ),
    ("crops grown for drugs", "Opium poppy and marijuana cultivation were eradicated in several states."),
]


@pytest.mark.parametrize("changes", [{}, {"mini_batch_size": 2}, {"bf16": True}], ids=["plain", "gradcache", "bf16"])
def test_training_is_deterministic_and_moves_the_weights(tmp_path: Path, changes: dict[str, object]) -> None:
    from safetensors.numpy import load_file

    from index.pairs import Pair
    from index.train import TrainConfig, train

    base = Settings(data_dir=tmp_path).model_path
    pairs = [Pair(a, p, None, "statement") for a, p in _PAIRS]
    config = TrainConfig(batch_size=8, max_wordpieces=32, warmup_ratio=0.0, **changes)  # type: ignore[arg-type]
    for run in ("one", "two"):
        train(base, pairs, config, tmp_path / run)
    one, two, bundled = (
        load_file(str(d / "model.safetensors")) for d in (tmp_path / "one", tmp_path / "two", Path(base))
    )
    floats = [n for n, t in one.items() if t.dtype == np.float32]
    assert all(np.array_equal(one[n], two[n]) for n in floats)  # the same weights, bit for bit
    assert any(not np.array_equal(one[n], bundled[n]) for n in floats)  # one step moved them
