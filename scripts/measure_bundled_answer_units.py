"""Answers chosen on the bundled MiniLM's answer-unit vectors while retrieval uses the adapted model.

Issue 20, fourth round in docs/adaptation-experiments.md. Runs the
``policyqa`` command line on the adapted build (``POLICYQA_DATA_DIR``) with
an English question's answer chosen among the bundled build's unit vectors
(``BASE_ROOT``: its snapshot directory, same corpus, e.g. the two-stage
build's ``data/previous``) against the bundled model's query vector.
Measurement only.

    POLICYQA_DATA_DIR=data BASE_ROOT=data/previous \\
        .venv/bin/python scripts/measure_bundled_answer_units.py eval --config routed
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qa.retrieve
from core.settings import get_settings
from qa.retrieve import Retriever

bundled = Retriever.open(get_settings(), root=Path(os.environ["BASE_ROOT"]))
_extract = qa.retrieve.extract_answer


def _bundled_units(query: str, hits: Any, vector: Any, store: Any, min_score: float, words: str | None = None) -> Any:
    if "E5" not in type(store.embedder).__name__:  # an English question: MiniLM's store
        vector, store = bundled.encode_query(query, "en"), bundled.units("en")
    return _extract(query, hits, vector, store, min_score, words)


qa.retrieve.extract_answer = _bundled_units

from cli.main import app  # noqa: E402

app(prog_name="policyqa")
