"""``python -m lianfang`` runs the command line."""

from lianfang.cli import app

app()
