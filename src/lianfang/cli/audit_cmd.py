"""``lianfang audit verify|checkpoint|purge`` — the integrity of the audit trail (全程留痕)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from lianfang.audit import RetentionError
from lianfang.audit.checkpoint import Checkpoint, export_checkpoint, read_checkpoint
from lianfang.cli.common import console, fail, platform

app = typer.Typer(no_args_is_help=True)


def _time(ms: int, tz: object) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=tz).strftime("%Y-%m-%d %H:%M:%S %Z")  # type: ignore[arg-type]


@app.command("verify")
def verify(
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", "-c", help="An exported checkpoint file to check against (repeatable)."
    ),
) -> None:
    """Check every record's SM3 link and MAC, and every signed checkpoint. Exit 1 on any problem."""
    plat = platform()
    plat.migrate()
    exported: list[Checkpoint] = []
    for path in checkpoint:
        try:
            exported.append(read_checkpoint(path))
        except ValueError as exc:
            fail(str(exc))
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("校验审计链 verifying the trail …")
        report = plat.audit.verify(
            exported, progress=lambda n: bar.update(task, description=f"校验审计链 verifying … {n:,} records")
        )
    span = f"{report.first_seq}–{report.last_seq}" if report.records else "none"
    console.print(f"records 记录: {report.records:,} (seq {span}); checkpoints 签名检查点: {report.checkpoints}")
    console.print(f"head 链头: {report.head_hash.hex()}")
    if report.ok:
        console.print("[bold green]完整 intact[/]: every link, MAC and signature verifies")
        return
    console.print(f"[bold red]被篡改 TAMPERED[/]: {len(report.problems)} problem(s)")
    for p in report.problems[:50]:
        console.print(f"  {escape(f'[{p.kind}]')} {p.message}")
    if len(report.problems) > 50:
        console.print(f"  … and {len(report.problems) - 50} more")
    raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(
    export: Path = typer.Option(None, "--export", "-o", help="Also write the checkpoint to this JSON file."),
) -> None:
    """Sign the trail's current head with SM2 and store it (and export it, to keep elsewhere)."""
    plat = platform()
    plat.migrate()
    cp = plat.audit.checkpoint()
    console.print(f"checkpoint 检查点 at seq {cp.seq}, {_time(cp.at_ms, plat.tz)}: {cp.hash.hex()}")
    if export is not None:
        export_checkpoint(cp, export)
        console.print(f"exported to {export} — keep it where the database's administrators cannot write")


@app.command("purge")
def purge(
    before: str = typer.Option(..., help="Delete records before this date (YYYY-MM-DD, Asia/Shanghai)."),
    yes: bool = typer.Option(False, "--yes", help="Do it (otherwise only say what would happen)."),
) -> None:
    """Delete audit records older than the retention period (at least one year), leaving a signed anchor."""
    plat = platform()
    plat.migrate()
    try:
        cut = datetime.strptime(before, "%Y-%m-%d").replace(tzinfo=plat.tz)
    except ValueError:
        fail(f"--before: expected YYYY-MM-DD, got {before!r}")
    if not yes:
        console.print(f"would delete audit records before {cut:%Y-%m-%d} if outside retention; add --yes to do it")
        return
    try:
        deleted, anchor = plat.audit.purge(int(cut.timestamp() * 1000))
    except RetentionError as exc:
        fail(str(exc))
    if anchor is None:
        console.print("nothing to purge")
    else:
        console.print(f"deleted {deleted:,} records up to seq {anchor.seq}; signed purge anchor stored")
