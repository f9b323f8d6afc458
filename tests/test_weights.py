"""The model's identity is its weights: the build fingerprint and the embedding cache key by their digest."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.settings import Settings
from index.fingerprint import fingerprint
from index.weights import weights_digest


def _tiny_model(root: Path) -> Path:
    model = root / "model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "config.json").write_text('{"hidden_size": 4}')
    (model / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    (model / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    return model


def _flip_a_weight(model: Path) -> None:
    """Change one byte of the weights, keeping the file's size and modification time."""
    weights = model / "model.safetensors"
    st = weights.stat()
    data = bytearray(weights.read_bytes())
    data[1000] ^= 0xFF
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1))


def test_another_model_path_with_the_same_name_and_sizes_is_another_model(tmp_path: Path) -> None:
    # Building with another POLICYQA_MODEL_PATH under the default name used to keep the fingerprint
    # (name, config and the weights' size), so the build reused the old model's passage vectors.
    first = _tiny_model(tmp_path / "a")
    other = tmp_path / "b" / "model"
    shutil.copytree(first, other)
    _flip_a_weight(other)
    a = fingerprint(Settings(data_dir=tmp_path / "data", model_path=str(first)))["model"]
    b = fingerprint(Settings(data_dir=tmp_path / "data", model_path=str(other)))["model"]
    assert a.split("#")[0] == b.split("#")[0] == "sentence-transformers/all-MiniLM-L6-v2@256"
    assert a != b


def test_the_digest_is_remembered_by_path_size_and_mtime(tmp_path: Path) -> None:
    model = _tiny_model(tmp_path)
    cache = tmp_path / "weights.json"
    digest = weights_digest(model, cache)
    assert cache.is_file()
    _flip_a_weight(model)  # a new mtime: hashed again
    assert weights_digest(model, cache) != digest


def test_a_readme_does_not_change_the_digest(tmp_path: Path) -> None:
    model = _tiny_model(tmp_path)
    digest = weights_digest(model)
    (model / "README.md").write_text("a model card")
    assert weights_digest(model) == digest
