"""A bad setting stops the command with one line naming the variable, not a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from core.settings import get_settings

# -- 10. a bad setting is one clean line --------------------------------------------------


@pytest.mark.parametrize("value", ["*", "https://intranet.example", '["*"]', '["https://x.example/path"]'])
def test_a_bad_cors_origins_setting_is_one_line_not_a_traceback(value: str, monkeypatch) -> None:
    monkeypatch.setenv("POLICYQA_CORS_ORIGINS", value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "POLICYQA_CORS_ORIGINS" in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
