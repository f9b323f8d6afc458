"""``python -m cli`` runs the ``policyqa`` command line."""

from cli.main import app

app(prog_name="policyqa")
