"""Long steps say what they do: a build logs its steps and progress, and a waiting build says it waits."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import subprocess
import threading
from pathlib import Path

from index.build import build_index
from tests.conftest import make_settings, policyqa_command
from tests.fakes import HashingEmbedder

# -- 8. long steps log their progress -------------------------------------------------------


def test_a_build_logs_its_steps_and_embedding_progress(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="policyqa.index")
    build_index(make_settings(tmp_path), HashingEmbedder())
    messages = [r.getMessage() for r in caplog.records if r.name == "policyqa.index"]
    assert messages[0].startswith("building the index (no index yet)")
    assert any(re.fullmatch(r"parsed 5 reports into \d+ passages", m) for m in messages)
    # The last progress line of each encoding step says all of it was done.
    assert any(re.fullmatch(r"embedded (\d+)/\1 passages \(\d+ s\)", m) for m in messages)
    assert any(re.fullmatch(r"embedded (\d+)/\1 sentences \(\d+ s\)", m) for m in messages)


def test_policyqa_build_logs_to_a_non_terminal_while_it_waits_for_another_build(tmp_path: Path) -> None:
    # Hold the build lock as a running build would; a second `policyqa build`, its stderr a pipe
    # (a log file, CI, `make run`), must say that it waits, and keep saying so, not sit silent.
    (tmp_path / ".build.lock").touch()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path)}
    with (tmp_path / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        process = subprocess.Popen(
            [policyqa_command(), "build"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        timer = threading.Timer(30, process.kill)  # a silent build would block the reads forever
        timer.start()
        try:
            assert process.stderr is not None
            lines = [process.stderr.readline(), process.stderr.readline()]
        finally:
            timer.cancel()
            process.kill()
            process.wait(timeout=30)
    assert "another build is running; waiting for it to finish" in lines[0]
    assert re.search(r"still waiting for the other build \(\d+ s\)", lines[1]), lines
