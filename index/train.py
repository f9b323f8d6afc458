"""Fine-tuning MiniLM on pairs (sentence-transformers, MNRL, CPU, fixed seeds), and mixing two models' weights.

``index.adapt`` decides what to train and caches it; this module only trains
and interpolates.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import IndexStoreError
from index.pairs import Pair

__all__ = ["TrainConfig", "interpolate", "ranking_loss", "train", "training_arguments"]

_log = logging.getLogger("policyqa.index")


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """The fine-tuning's settings."""

    epochs: int = 1
    learning_rate: float = 2e-5
    batch_size: int = 16
    max_wordpieces: int = 128
    warmup_ratio: float = 0.1
    seed: int = 13
    mini_batch_size: int = 0
    """0: MultipleNegativesRankingLoss over the whole batch; N: CachedMultipleNegativesRankingLoss in passes of N."""
    bf16: bool = False
    """Train under bfloat16 autocast (CPU): the forward and backward passes' matrix products in bfloat16."""


def _seed(seed: int) -> None:
    import numpy as np
    import torch
    import transformers

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    transformers.set_seed(seed)


PROGRESS_SECONDS = 10.0
"""How often training logs how far along it is: minutes of CPU show in the build's log, not in silence."""


def _progress_callback():  # type: ignore[no-untyped-def]
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):
        def __init__(self) -> None:
            self.t0 = self.last = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            now = time.monotonic()
            if now - self.last >= PROGRESS_SECONDS or state.global_step == state.max_steps:
                _log.info("trained %d/%d steps (%.0f s)", state.global_step, state.max_steps, now - self.t0)
                self.last = now

    return _Progress()


def ranking_loss(model: Any, config: TrainConfig) -> Any:
    """The in-batch ranking loss: every other passage of the batch is a negative for an anchor.

    With ``mini_batch_size`` the same loss is computed by GradCache (embeddings first without gradients,
    then again in mini-batches with the loss's cached gradients), so a batch of 128 costs the memory of
    a mini-batch and one more forward pass. It is not bit for bit the plain loss's training: dropout
    draws its masks per mini-batch. Deterministic all the same (it replays each mini-batch's draws).
    """
    from sentence_transformers.sentence_transformer import losses

    if config.mini_batch_size:
        return losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=config.mini_batch_size)
    return losses.MultipleNegativesRankingLoss(model)


def training_arguments(config: TrainConfig, output_dir: Path) -> Any:
    """The trainer's arguments: CPU, fixed seeds, one data order, no checkpoints, no reporting."""
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    return SentenceTransformerTrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a ratio of the steps (transformers 5)
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=True,
        bf16=config.bf16,
        save_strategy="no",
        report_to="none",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        # A repeated anchor or passage in one batch would be its own false in-batch negative.
        batch_sampler=BatchSamplers.NO_DUPLICATES,
    )


def train(base: str, pairs: Sequence[Pair], config: TrainConfig, out: Path) -> None:
    """Fine-tune the sentence-transformers model at ``base`` on ``pairs`` and save it to ``out``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    try:
        from datasets import Dataset
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        _seed(config.seed)
        model = SentenceTransformer(base, device="cpu")
        model.max_seq_length = config.max_wordpieces
        columns: dict[str, list[str]] = {"anchor": [p.anchor for p in pairs], "positive": [p.positive for p in pairs]}
        if all(p.negative is not None for p in pairs):
            columns["negative"] = [p.negative or "" for p in pairs]
        dataset = Dataset.from_dict(columns)
        scratch = out.parent / f".trainer-{os.getpid()}"
        args = training_arguments(config, scratch)
        trainer = SentenceTransformerTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            loss=ranking_loss(model, config),
            callbacks=[_progress_callback()],
        )
        trainer.train()
        model.save(str(out))
    except IndexStoreError:
        raise
    except Exception as exc:  # library errors become ours at the boundary
        raise IndexStoreError(f"cannot adapt the model to the reports: {exc}") from exc
    finally:
        shutil.rmtree(out.parent / f".trainer-{os.getpid()}", ignore_errors=True)


def interpolate(base: str | Path, adapted: Path, alpha: float, out: Path, *, skip: Sequence[str] = ()) -> None:
    """Write to ``out`` the model at ``adapted`` with every weight ``(1 - alpha) * base + alpha * adapted``.

    Both are sentence-transformers folders of the same architecture (the adapted one was trained from
    ``base``); ``out`` takes the adapted folder's configuration and tokenizer, and none of its ``skip`` files.
    """
    import numpy as np
    from safetensors.numpy import load_file, save_file

    tuned_file, base_file = adapted / "model.safetensors", Path(base) / "model.safetensors"
    if not tuned_file.is_file() or not base_file.is_file():
        raise IndexStoreError(f"cannot interpolate: {tuned_file} or {base_file} is missing")
    tuned, bundled = load_file(str(tuned_file)), load_file(str(base_file))
    odd = sorted(n for n, t in tuned.items() if n not in bundled or bundled[n].shape != t.shape)
    if odd:
        raise IndexStoreError(f"cannot interpolate: the adapted model's {odd[:3]} have no match in {base}")
    mixed = {
        # Integer buffers (position ids) are not weights: kept as trained.
        n: (((1.0 - alpha) * bundled[n] + alpha * t).astype(t.dtype) if np.issubdtype(t.dtype, np.floating) else t)
        for n, t in tuned.items()
    }
    shutil.copytree(adapted, out, ignore=shutil.ignore_patterns(*skip, "model.safetensors"))
    save_file(mixed, str(out / "model.safetensors"), metadata={"format": "pt"})
