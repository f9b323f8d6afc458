"""The ``policyqa`` entry point: the engine's commands plus those of the api and eval faces.

Each face defines its commands beside its own code; this module only
registers them, so no face imports another. Their modules import nothing
heavy at import time, so ``policyqa --help`` stays fast.
"""

from __future__ import annotations

from api.cli import mcp_command, serve_command
from cli.commands import app
from cli.documents import add_command, documents_command, remove_command
from eval.bench_cli import bench_command
from eval.cli import eval_command

__all__ = ["app"]

app.command("serve")(serve_command)
app.command("mcp")(mcp_command)
app.command("eval")(eval_command)
app.command("bench")(bench_command)
app.command("add")(add_command)
app.command("remove")(remove_command)
app.command("documents")(documents_command)
