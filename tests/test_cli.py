"""The command line: outline JSON shape, error exit codes, ask end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli.main import app
from core.settings import Settings

runner = CliRunner()


def _keys(node: dict) -> set[str]:
    found = {frozenset(node)}
    for child in node["children"]:
        found |= _keys(child)
    return found


def test_outline_json_is_a_nested_kind_number_title_children_tree() -> None:
    result = runner.invoke(app, ["outline", "unodc-honlac-29-2019", "--json"])
    assert result.exit_code == 0
    tree = json.loads(result.stdout)
    assert [c["kind"] for c in tree["children"]] == ["section", "issue", "issue", "issue", "issue"]
    assert _keys(tree["children"][1]) == {frozenset({"id", "kind", "number", "title", "children"})}
    rec1 = tree["children"][1]["children"][0]
    assert (rec1["kind"], rec1["number"]) == ("recommendation", "1")


def test_outline_of_an_unknown_document_exits_2_naming_the_valid_ones() -> None:
    result = runner.invoke(app, ["outline", "nope"])
    assert result.exit_code == 2
    assert "valid: mem-mexico-2024" in result.stderr


@pytest.mark.e2e
def test_ask_prints_json_hits_with_citations(real_settings: Settings) -> None:
    env = {**os.environ, "POLICYQA_DATA_DIR": str(real_settings.data_dir)}
    out = subprocess.run(
        [sys.executable, "-m", "cli", "ask", "What does recommendation 12 say?", "-k", "3", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    doc = json.loads(out.stdout)
    results = doc["results"]
    assert len(results) == 3
    # A named section is always answered, from its own text.
    assert doc["answer"]["section_id"] == "unodc-honlac-29-2019/issue-3/recommendation-12"
    assert results[0]["section_id"] == "unodc-honlac-29-2019/issue-3/recommendation-12"
    assert results[0]["label"] == "UNODC HONLAC 29 (2019) — Issue 3 › Recommendation 12"


def test_an_eval_error_is_one_line_however_long() -> None:
    # eval and bench printed their errors at the console's width: a long one came out cut over lines.
    result = runner.invoke(app, ["eval", "--config", "no-such-configuration-" * 8])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown retrieval configuration")
    assert lines[0].endswith("valid: bm25, dense, hybrid, routed")
