"""``lianfang demo generate``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from lianfang.cli.common import console, fail

app = typer.Typer(no_args_is_help=True)


@app.command("generate")
def generate(
    out: Path = typer.Option(..., help="Output directory."),
    seed: int = typer.Option(7, help="Random seed (same seed, same bytes)."),
    scale: str = typer.Option("small", help="tiny, small, medium or large."),
) -> None:
    """Write what 16 cities' legacy systems would export, plus manifest.json (the ground truth)."""
    from lianfang import demo

    if scale not in demo.SCALES:
        fail(f"unknown scale {scale!r}; choose one of {', '.join(demo.SCALES)}")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        manifest = demo.generate(out, seed=seed, scale=scale, progress=progress)
    console.print(f"[green]demo province written to {out}[/] ({len(manifest.files)} files)")
