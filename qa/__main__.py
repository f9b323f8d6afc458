"""``python -m qa`` runs the ``policyqa`` command line."""

from qa.cli import app

app(prog_name="policyqa")
