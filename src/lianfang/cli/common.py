"""Shared CLI plumbing: the platform from settings, consoles, error exits."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

from lianfang.platform import Platform
from lianfang.settings import Settings

console = Console()
err_console = Console(stderr=True)


def platform() -> Platform:
    return Platform(Settings())


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]错误 error:[/] {message}")
    sys.exit(code)
