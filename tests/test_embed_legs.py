"""A build's two models embed at once (``index.legs.embed_legs``): the same vectors, and one failure stops both."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from index.legs import embed_legs
from tests.fakes import HashingEmbedder

PASSAGES = [f"passage {i} on drug policy" for i in range(300)]
UNITS = [f"unit {i} of a passage" for i in range(700)]


class _Slow(HashingEmbedder):
    """Takes a little time per call, and remembers which thread called it."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.threads: set[str] = set()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        time.sleep(0.01)
        return super().encode(texts, progress=progress)


class _Failing(HashingEmbedder):
    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        raise RuntimeError("MiniLM failed")


def _legs(english: HashingEmbedder, multilingual: HashingEmbedder, concurrent: bool, steps: list[int]):  # type: ignore[no-untyped-def]
    return embed_legs(
        lambda: english,
        multilingual,
        PASSAGES,
        UNITS,
        concurrent=concurrent,
        progress=False,
        timings={},
        step=steps.append,
    )


def test_concurrent_legs_give_the_vectors_of_one_model_after_the_other() -> None:
    _, one_by_one = _legs(HashingEmbedder(64), HashingEmbedder(32), False, [])
    english, multilingual = _Slow(64), _Slow(32)
    _, at_once = _legs(english, multilingual, True, [])
    for field in ("passages", "units", "multilingual_passages", "multilingual_units"):
        np.testing.assert_array_equal(getattr(at_once, field), getattr(one_by_one, field), err_msg=field)
    assert english.threads.isdisjoint(multilingual.threads)  # each model in a thread of its own


def test_each_leg_reports_its_step() -> None:
    steps: list[int] = []
    _legs(_Slow(64), _Slow(32), True, steps)
    assert sorted(steps) == [3, 4, 5, 6]
    assert steps.index(3) < steps.index(4) and steps.index(5) < steps.index(6)


def test_a_failing_model_is_the_error_reported_and_stops_the_other() -> None:
    multilingual = _Slow(32)
    with pytest.raises(RuntimeError, match="MiniLM failed"):
        _legs(_Failing(64), multilingual, True, [])
    # The multilingual legs are 3 + 6 calls of 128 texts; they stop at the next call after the failure.
    assert multilingual.calls < 9


_IMPORT_WAITS = """
import sys, threading, time
import torch  # noqa: F401  (so the thread below only has transformers left to import)
from index.e5_graph import bert
from index.e5_weights import read_e5_weights
from index.embed import TRANSFORMERS_IMPORT

weights = read_e5_weights()
built = []
with TRANSFORMERS_IMPORT:  # as MiniLM's loader thread holds it while it imports sentence-transformers
    thread = threading.Thread(target=lambda: built.append(bert(weights)))
    thread.start()
    time.sleep(3)
    imported = "transformers.models.bert.configuration_bert" in sys.modules
thread.join()
print(imported, len(built))
"""


@pytest.mark.e2e
def test_building_e5s_bert_waits_while_another_thread_imports_transformers() -> None:
    # transformers resolves names lazily and two threads doing it at once fail: a cold build with
    # both models at once stopped with "cannot import name 'BertConfig' from 'transformers'".
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_WAITS], capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "1"]
