"""The MCP server reports the package's version in ``initialize`` (issue 19: it reported an empty one)."""

from __future__ import annotations

from importlib.metadata import version

import anyio
from mcp import Client

from api.mcp import create_mcp_server


def test_initialize_reports_the_package_version() -> None:
    server = create_mcp_server(lambda: None, base_url="http://127.0.0.1:8000")  # type: ignore[arg-type,return-value]  # never called

    async def initialize() -> str:
        async with Client(server) as client:
            return client.server_info.version

    assert anyio.run(initialize) == version("policyqa") != ""
