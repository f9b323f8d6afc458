"""Each evaluation run writes to its own folder, and ``latest`` points at the newest."""

from __future__ import annotations

from pathlib import Path

from eval.cli import run_dir

# -- 15. each evaluation run writes to its own folder ---------------------------------------


def test_each_default_eval_run_gets_a_new_folder_and_latest_points_to_it(tmp_path: Path) -> None:
    first = run_dir(None, base=tmp_path)
    second = run_dir(None, base=tmp_path)
    assert first != second and first.parent == second.parent == tmp_path
    assert (tmp_path / "latest").resolve() == second.resolve()


def test_a_named_eval_folder_is_cleared_of_an_earlier_runs_files(tmp_path: Path) -> None:
    (tmp_path / "run.dense.trec").write_text("stale")
    (tmp_path / "notes.txt").write_text("mine")
    run_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
