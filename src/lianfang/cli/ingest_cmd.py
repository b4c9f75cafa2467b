"""``lianfang ingest PATH...`` with a progress bar and a summary."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from lianfang.cli.common import audit_cli, console, fail, migrated, platform
from lianfang.ingest.mapping import MappingError, load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.ingest.results import BatchResult


def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or directories to ingest."),
    mapping: Path = typer.Option(None, help="Mapping YAML to use instead of auto-detection."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Ingest source files: parse → map → normalise → validate → store or quarantine."""
    plat = platform()
    plat.ensure_key()
    migrated(plat)
    try:
        chosen = load_mapping(mapping, plat.standard) if mapping else None
        mappings = [] if chosen else plat.mappings  # --mapping: no file is matched against the others
    except MappingError as exc:
        fail(str(exc))
    for p in paths:
        if not p.exists():
            fail(f"{p.name}: no such file or directory")
    ingestor = Ingestor(
        engine=plat.engine,
        standard=plat.standard,
        keyring=plat.keyring,
        settings=plat.settings,
        mappings=mappings,
        on_stored=plat.watch.matcher,  # new sightings are matched against the watch lists
        metadata=plat.metadata,
    )
    columns = (
        TextColumn("{task.description}", style="cyan"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=as_json, transient=True) as bar:
        tasks: dict[str, TaskID] = {}
        if not as_json:
            ingestor.on_index = lambda index, table: console.print(f"building index {index} on {table} …")
        ingestor.restore_indexes()  # what a bulk load that died left unbuilt (store/indexes.py)

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name[:40], total=total)
            bar.update(tasks[name], completed=done)

        result = ingestor.ingest(paths, mapping=chosen, progress=progress)
    audit_cli(plat, "ingest.cli", "ok" if result.ok else "failed", (f"batch:{result.batch_id}",),
              files=len(result.files), read=result.total("read"), accepted=result.total("accepted"),
              quarantined=result.total("quarantined"), duplicates=result.total("duplicates"))
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        render_summary(result)
    if not result.ok:
        raise typer.Exit(1)


def render_summary(result: BatchResult) -> None:
    table = Table(title=f"批次 batch {result.batch_id}")
    for col in (
        "file",
        "category",
        "city",
        "status",
        "read",
        "accepted",
        "quarantined",
        "duplicates",
    ):
        table.add_column(
            col,
            justify="right" if col in ("read", "accepted", "quarantined", "duplicates") else "left",
            overflow="fold",  # full file paths: they are the lineage a steward looks up
        )
    for f in result.files:
        status = f.status if not f.error else f"{f.status}: {f.error}"
        table.add_row(
            f.name,
            f.category,
            f.city_code,
            status,
            str(f.read),
            str(f.accepted),
            str(f.quarantined),
            str(f.duplicates),
        )
    console.print(table)
    read = result.total("read")
    rate = read / result.seconds if result.seconds else 0.0
    console.print(
        f"read {read:,} · accepted {result.total('accepted'):,} · quarantined "
        f"{result.total('quarantined'):,} · duplicates {result.total('duplicates'):,} · "
        f"{result.seconds:.1f} s · {rate:,.0f} records/s"
    )
    if result.by_reason:
        reasons = ", ".join(f"{code} {n}" for code, n in result.by_reason.most_common())
        console.print(f"rejected by reason: {reasons}")
