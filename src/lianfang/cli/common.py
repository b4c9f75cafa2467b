"""Shared CLI plumbing: the platform from settings, consoles, error exits."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from rich.console import Console

from lianfang.platform import Platform
from lianfang.settings import Settings

console = Console()
err_console = Console(stderr=True)


def platform() -> Platform:
    """The platform for this command; its database connections close when the command ends."""
    plat = Platform(Settings())
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(plat.close)
    return plat


def migrated(plat: Platform) -> Platform:
    """``plat`` with its schema brought up to date; each migration that runs is named on stderr first
    (one may rewrite a big table, and the command would seem stuck)."""

    def applying(revision: str, title: str) -> None:
        err_console.print(f"applying migration {revision}: {title}")

    plat.migrate(on_revision=applying)
    return plat


def audit_cli(plat: Platform, action: str, outcome: str, targets: tuple[str, ...], **detail: object) -> None:
    """Record an operator's state change made from the command line (client ``cli:<os user>``)."""
    import getpass
    import time

    from lianfang.audit import AuditEvent

    plat.audit.record(AuditEvent(action=action, outcome=outcome, at_ms=int(time.time() * 1000), target=targets,
                                 client=f"cli:{getpass.getuser()}"[:64], detail=dict(detail)))


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]错误 error:[/] {message}")
    sys.exit(code)
