"""What a build no longer redoes: the query encoder's export, and a whole cache rewrite per 128 texts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pytest

import index.space
from core.settings import Settings
from index.build import build_index
from index.embed_cache import CachedEmbedder
from index.export_cache import kept_export
from index.persist import ARRAYS
from tests.fakes import HashingEmbedder

_ONNX = "query_encoder.int8.onnx"


class _Exporting(HashingEmbedder):
    """A fake MiniLM with an ``export_onnx``, as the real one has: counts its exports."""

    def __init__(self) -> None:
        super().__init__()
        self.exports = 0

    def export_onnx(self, out_dir: Path) -> Path:
        self.exports += 1
        path = out_dir / _ONNX
        path.write_bytes(b"graph %d" % self.exports)
        return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_a_second_build_of_the_same_model_reuses_the_kept_export(settings: Settings) -> None:
    embedder = _Exporting()
    build_index(settings, embedder)
    first = (settings.index_dir / _ONNX).read_bytes()
    build_index(settings, embedder, force=True)
    assert embedder.exports == 1
    assert (settings.index_dir / _ONNX).read_bytes() == first == b"graph 1"


def test_another_model_is_exported_anew(settings: Settings) -> None:
    build_index(settings, _Exporting())

    class _Other(_Exporting):
        @property
        def fingerprint(self) -> str:
            return "another-model"

    other = _Other()
    build_index(settings, other, force=True)
    assert other.exports == 1


def test_a_kept_export_that_no_longer_matches_its_checksum_is_made_again(tmp_path: Path) -> None:
    made: list[bytes] = []

    def export() -> bytes:
        made.append(b"v%d" % len(made))
        return made[-1]

    path, fresh = kept_export(tmp_path, "key", "file.onnx", export)
    assert (fresh, path.read_bytes()) == (True, b"v0")
    assert kept_export(tmp_path, "key", "file.onnx", export) == (path, False)
    path.write_bytes(b"v9")  # damaged on disk
    assert kept_export(tmp_path, "key", "file.onnx", export) == (path, True)
    assert path.read_bytes() == b"v1"


def _count_cache_writes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    writes: list[Path] = []
    real = index.space.write_atomically

    def counting(path: Path, write: Callable[[BinaryIO], None]) -> None:
        if path.suffix == ".npz":
            writes.append(path)
        real(path, write)

    monkeypatch.setattr(index.space, "write_atomically", counting)
    return writes


def test_the_cache_is_written_once_per_leg_that_embedded_something(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _count_cache_writes(monkeypatch)
    build_index(settings, HashingEmbedder())
    # One fake for both models: its passages and its answer units embed (705 and 1,640 texts, in
    # calls of 128); the multilingual legs find every text in the cache and write nothing.
    assert len(writes) == 2


def test_a_long_leg_still_saves_after_save_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = _count_cache_writes(monkeypatch)
    cached = CachedEmbedder(HashingEmbedder(), tmp_path)
    cached.save_seconds = 0.0  # every call is past the interval: what an interrupted leg has kept
    with cached.deferred():
        cached.encode(["one"])
        cached.encode(["two"])
    assert len(writes) == 2


def test_vectors_are_those_of_a_build_that_wrote_the_cache_after_every_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deferred = Settings(data_dir=tmp_path / "a")
    build_index(deferred, HashingEmbedder())
    eager = Settings(data_dir=tmp_path / "b")
    monkeypatch.setattr(CachedEmbedder, "deferred", property(lambda self: None))  # the old path
    build_index(eager, HashingEmbedder())
    for file in ARRAYS.values():
        a: Any = np.load(deferred.index_dir / file)
        b: Any = np.load(eager.index_dir / file)
        np.testing.assert_array_equal(a, b, err_msg=file)


def test_a_build_removes_what_a_killed_export_left_in_the_kept_exports(settings: Settings) -> None:
    stray = settings.embedding_cache / "exports" / "key" / f".{_ONNX}.{2**22 + 1}.tmp"  # no such process
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"half a graph")
    build_index(settings, HashingEmbedder())
    assert not stray.exists()
