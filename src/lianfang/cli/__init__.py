"""The ``lianfang`` command line (Typer + Rich). Commands parse input, call one service, render."""

from __future__ import annotations

from lianfang.cli.main import app

__all__ = ["app"]
