"""Ctrl-C stops the server at once, even during the startup build, and leaves the live index as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from index.build import build_index
from tests.conftest import free_port, make_settings, policyqa_command
from tests.fakes import HashingEmbedder

# -- 9. Ctrl-C during the startup build stops the server at once ----------------------------


@pytest.mark.e2e
def test_ctrl_c_during_the_startup_build_exits_promptly_and_keeps_the_previous_index(tmp_path: Path) -> None:
    # An index built with the fake embedder is stale for the real models, so `serve` starts a real
    # (minutes-long) build; Ctrl-C must not wait for it (it did: 145 s) nor touch the live index.
    settings = make_settings(tmp_path)
    build_index(settings, HashingEmbedder())
    live = settings.index_dir.resolve()
    manifest = (live / "manifest.json").read_text()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path)}
    command = [policyqa_command(), "serve", "--port", str(free_port()), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the build has started once it says so
            if "building the index" in line:
                break
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        process.wait(timeout=30)
        waited = time.monotonic() - t0
    finally:
        process.kill()
    assert waited < 15, f"serve took {waited:.0f} s to stop"
    assert settings.index_dir.resolve() == live and (live / "manifest.json").read_text() == manifest
