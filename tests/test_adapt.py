"""The adapted MiniLM's key and cache: what retrains and what reuses (no training here; see the e2e tests)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.settings import PROJECT_ROOT, Settings
from index.adapt import adapt_key, adapted_id, ensure_adapted
from index.build import collect_passages
from index.fingerprint import fingerprint
from index.train import interpolate


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("*.py", "_schemes", "__pycache__"))
    return corpus


def test_the_key_is_the_same_for_the_same_corpus_code_and_model(tmp_path: Path) -> None:
    assert adapt_key(Settings(data_dir=tmp_path / "a")) == adapt_key(Settings(data_dir=tmp_path / "b"))


def test_a_changed_report_changes_the_key(tmp_path: Path, corpus_copy: Path) -> None:
    before = adapt_key(Settings(data_dir=tmp_path, corpus_dir=corpus_copy))
    with (corpus_copy / "state-inl-mexico-fact-sheet-2005.txt").open("a", encoding="utf-8") as f:
        f.write("\nA sentence added later.\n")
    assert adapt_key(Settings(data_dir=tmp_path, corpus_dir=corpus_copy)) != before


def test_training_settings_change_the_key(tmp_path: Path) -> None:
    assert adapt_key(Settings(data_dir=tmp_path)) != adapt_key(Settings(data_dir=tmp_path, adapt_epochs=2))


def test_a_changed_gold_set_changes_the_key(tmp_path: Path) -> None:
    # The held-out texts decide which anchors are dropped.
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"question": "q", "evidence": [{"quote": "a quote"}]}\n')
    before = adapt_key(Settings(data_dir=tmp_path, adapt_holdout=[gold]))
    gold.write_text('{"question": "q", "evidence": [{"quote": "another quote"}]}\n')
    assert adapt_key(Settings(data_dir=tmp_path, adapt_holdout=[gold])) != before


def test_the_build_fingerprint_names_the_adapted_model_only_when_adapting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, adapt=True, adapt_interpolate=1.0)
    assert fingerprint(settings)["adapted"] == adapt_key(settings)
    assert fingerprint(Settings(data_dir=tmp_path, adapt=False))["adapted"] is None


def test_by_default_builds_embed_with_the_adapted_model_interpolated_at_0_7(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert fingerprint(settings)["adapted"] == f"{adapt_key(settings)}-wise70"


def test_a_model_with_a_matching_key_is_reused_without_training(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, adapt_interpolate=1.0)
    cached = settings.adapted_models / adapt_key(settings)
    cached.mkdir(parents=True)
    (cached / "adapt.json").write_text(json.dumps({"seconds": 201.5, "pairs": 625}))
    adapted = ensure_adapted(settings, *collect_passages(settings))  # would train (minutes) on a miss
    assert (adapted.model_dir, adapted.trained, adapted.seconds, adapted.pairs) == (cached, False, 201.5, 625)


def test_what_a_killed_training_left_is_removed_and_a_running_ones_kept(tmp_path: Path) -> None:
    from index.adapt import _drop_strays

    dead, running = tmp_path / ".trainer-999999999", tmp_path / f".abc-{os.getpid()}"
    dead.mkdir()
    running.mkdir()
    _drop_strays(tmp_path)
    assert (dead.exists(), running.exists()) == (False, True)


def test_the_interpolation_weight_names_another_model_but_keeps_the_training(tmp_path: Path) -> None:
    plain, mixed = (
        Settings(data_dir=tmp_path, adapt=True, adapt_interpolate=1.0),
        Settings(data_dir=tmp_path, adapt=True, adapt_interpolate=0.5),
    )
    assert adapt_key(mixed) == adapt_key(plain)  # one training for every weight
    assert adapted_id(plain) == adapt_key(plain)  # 1: the adapted model as trained
    assert adapted_id(mixed) == f"{adapt_key(plain)}-wise50"
    assert adapted_id(Settings(data_dir=tmp_path, adapt_interpolate=0.501)) == adapted_id(mixed)
    assert fingerprint(mixed)["adapted"] != fingerprint(plain)["adapted"]  # another weight rebuilds the index


def _model(folder: Path, tensors: dict[str, np.ndarray]) -> Path:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True)
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "config.json").write_text("{}")
    return folder


def test_interpolation_mixes_every_weight_and_keeps_integer_buffers(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    ids = np.arange(4, dtype=np.int64)[None]
    base = _model(tmp_path / "base", {"w": np.ones((2, 3), np.float32), "position_ids": ids})
    tuned = _model(tmp_path / "tuned", {"w": np.full((2, 3), 3.0, np.float32), "position_ids": ids})
    interpolate(base, tuned, 0.25, tmp_path / "out")
    out = load_file(str(tmp_path / "out" / "model.safetensors"))
    assert np.allclose(out["w"], 1.5) and out["w"].dtype == np.float32
    assert (out["position_ids"] == ids).all()
    assert (tmp_path / "out" / "config.json").is_file()


def test_an_interpolated_model_is_made_from_the_cached_training_without_training(tmp_path: Path) -> None:
    base = _model(tmp_path / "base", {"w": np.zeros((2, 2), np.float32)})
    settings = Settings(data_dir=tmp_path / "data", model_path=str(base), adapt=True, adapt_interpolate=0.5)
    trained = _model(settings.adapted_models / adapt_key(settings), {"w": np.full((2, 2), 2.0, np.float32)})
    (trained / "adapt.json").write_text(json.dumps({"seconds": 201.5, "pairs": 625}))
    adapted = ensure_adapted(settings, *collect_passages(settings))  # would train (minutes) on a miss
    assert adapted.model_dir == settings.adapted_models / adapted_id(settings)
    assert (adapted.key, adapted.trained, adapted.seconds, adapted.pairs) == (adapted_id(settings), False, 201.5, 625)
    from safetensors.numpy import load_file

    assert np.allclose(load_file(str(adapted.model_dir / "model.safetensors"))["w"], 1.0)
    meta = json.loads((adapted.model_dir / "adapt.json").read_text())
    assert (meta["trained_key"], meta["interpolate"]) == (adapt_key(settings), 0.5)
    # A second build reuses the interpolated model as it is.
    stamp = (adapted.model_dir / "model.safetensors").stat().st_mtime_ns
    again = ensure_adapted(settings, *collect_passages(settings))
    assert again.model_dir == adapted.model_dir
    assert (adapted.model_dir / "model.safetensors").stat().st_mtime_ns == stamp


def test_pruning_keeps_the_newest_trainings_each_with_its_interpolations(tmp_path: Path) -> None:
    from index.adapt import _prune

    names = ["old", "old-wise50", "mixed", "mixed-wise30", "b", "c", "d"]
    for age, name in enumerate(["old", "old-wise50", "mixed", "b", "c", "mixed-wise30", "d"]):
        (tmp_path / name).mkdir()
        (tmp_path / name / "adapt.json").write_text("{}")
        os.utime(tmp_path / name, (1000 + age, 1000 + age))
    # "mixed" was used (its interpolation made) after b and c: it counts as newer than them.
    _prune(tmp_path, "d")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(names) - {"old", "old-wise50", "b"})


@pytest.mark.parametrize("setting", [{"adapt_mini_batch_size": 16}, {"adapt_bf16": True}, {"adapt_batch_size": 64}])
def test_the_loss_and_precision_settings_change_the_key(tmp_path: Path, setting: dict[str, object]) -> None:
    assert adapt_key(Settings(data_dir=tmp_path, **setting)) != adapt_key(Settings(data_dir=tmp_path))  # type: ignore[arg-type]


def test_the_defaults_train_as_before_one_pass_per_batch_in_float32(tmp_path: Path) -> None:
    from index.adapt import configs

    _, training = configs(Settings(data_dir=tmp_path))
    assert (training.batch_size, training.mini_batch_size, training.bf16) == (16, 0, False)


def test_a_mini_batch_size_computes_the_ranking_loss_by_gradcache() -> None:
    import torch
    from sentence_transformers.sentence_transformer import losses

    from index.train import TrainConfig, ranking_loss

    model = torch.nn.Sequential(torch.nn.Linear(2, 2))  # the losses only hold the model until training
    assert type(ranking_loss(model, TrainConfig())) is losses.MultipleNegativesRankingLoss
    cached = ranking_loss(model, TrainConfig(batch_size=128, mini_batch_size=16))
    assert isinstance(cached, losses.CachedMultipleNegativesRankingLoss) and cached.mini_batch_size == 16


@pytest.mark.parametrize("bf16", [False, True])
def test_bf16_trains_under_autocast_only_when_asked(tmp_path: Path, bf16: bool) -> None:
    from index.train import TrainConfig, training_arguments

    args = training_arguments(TrainConfig(bf16=bf16, batch_size=64), tmp_path)
    assert (args.bf16, args.use_cpu, args.per_device_train_batch_size, args.seed) == (bf16, True, 64, 13)


def test_a_mini_batch_larger_than_the_batch_is_refused(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="mini"):
        Settings(data_dir=tmp_path, adapt_batch_size=16, adapt_mini_batch_size=32)


def test_a_build_that_must_train_builds_first_with_the_bundled_model(tmp_path: Path) -> None:
    from index.stages import first_stage

    settings = Settings(data_dir=tmp_path)
    first = first_stage(settings)
    assert first is not None
    assert (first.adapt, first.data_dir, first.corpus_dir) == (False, settings.data_dir, settings.corpus_dir)


def test_a_build_whose_adapted_model_is_trained_is_made_in_one_stage(tmp_path: Path) -> None:
    from index.stages import first_stage

    settings = Settings(data_dir=tmp_path)
    cached = settings.adapted_models / adapt_key(settings)
    cached.mkdir(parents=True)
    (cached / "adapt.json").write_text(json.dumps({"seconds": 201.5, "pairs": 625}))
    assert first_stage(settings) is None


def test_a_build_without_adaptation_is_made_in_one_stage(tmp_path: Path) -> None:
    from index.stages import awaits_adaptation, first_stage

    settings = Settings(data_dir=tmp_path, adapt=False)
    assert (first_stage(settings), awaits_adaptation(settings)) == (None, False)


def test_a_corpus_without_training_pairs_keeps_the_bundled_model_and_remembers_it(tmp_path: Path) -> None:
    # A report of a few lines gives no pairs: the build goes on with the bundled MiniLM, no error.
    settings = Settings(data_dir=tmp_path)
    first = ensure_adapted(settings, [], [])
    assert (first.model_dir, first.pairs, first.trained) == (Path(settings.model_path), 0, False)
    assert json.loads((settings.adapted_models / adapt_key(settings) / "adapt.json").read_text())["pairs"] == 0
    again = ensure_adapted(settings, [], [])
    assert (again.model_dir, again.pairs) == (Path(settings.model_path), 0)
