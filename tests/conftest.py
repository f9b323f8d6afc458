"""Shared fixtures: settings pointing at temporary data dirs, a fake-embedder index, the real one.

Unit tests build the index from the real bundled corpus with the hashing
embedder (a second or two). End-to-end tests (marked ``e2e``) build once per
session with the real MiniLM model and FAISS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.build import build_index
from qa.retrieve import Retriever
from qa.settings import Settings
from tests.fakes import HashingEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def fake_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("fake-data"))


@pytest.fixture(scope="session")
def fake_retriever(fake_settings: Settings) -> Retriever:
    """The bundled corpus indexed with the hashing embedder."""
    embedder = HashingEmbedder()
    build_index(fake_settings, embedder)
    return Retriever.open(fake_settings, embedder)


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings whose data dir holds an index built with the real model (built once)."""
    settings = make_settings(tmp_path_factory.mktemp("real-data"))
    build_index(settings)
    yield settings


@pytest.fixture(scope="session")
def real_retriever(real_settings: Settings) -> Retriever:
    return Retriever.open(real_settings)
