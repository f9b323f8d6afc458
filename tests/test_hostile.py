"""``scripts/hostile.py`` against a live server: a few hundred hostile requests, every answer deliberate.

It exits 0 when no answer is a 5xx, a dropped connection or an undesigned
error (an error that is neither JSON nor the reading view's own 404 page),
and every answer carries ``nosniff`` (every page its Content-Security-Policy).
Before issue 21 it failed on the reading view's designed HTML 404.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e


def test_hostile_requests_get_only_deliberate_answers(live_server: str) -> None:
    script = PROJECT_ROOT / "scripts" / "hostile.py"
    out = subprocess.run([sys.executable, str(script), live_server], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    total = out.stdout.splitlines()[-1].split()
    assert total[0] == "all" and int(total[1]) >= 300
    assert "FAIL" not in out.stdout
