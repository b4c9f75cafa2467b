"""``lianfang batches list|show``: the ingestion history, as ``GET /api/v1/batches`` shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from lianfang.api.timefmt import localise
from lianfang.cli.common import console, fail
from lianfang.cli.quarantine_cmd import ingestor
from lianfang.ingest.batches import get_batch, list_batches

app = typer.Typer(no_args_is_help=True)

STATUSES = ("running", "done", "failed", "interrupted")
_STYLE = {"done": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}


def _when(ms: int | None, tz: ZoneInfo) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _status(value: str) -> str:
    style = _STYLE.get(value)
    return f"[{style}]{value}[/]" if style else value


def _table(title: str | None, heads: list[tuple[str, bool]], rows: list[list[str]]) -> Table:
    """Numbers right-aligned and never cut (a narrow terminal wraps the text columns instead)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for j, (head, number) in enumerate(heads):
        width = max([len(head)] + [Text.from_markup(r[j]).cell_len for r in rows])
        if number:
            table.add_column(head, justify="right", no_wrap=True, min_width=width)
        else:
            table.add_column(head, overflow="fold", min_width=min(12, width))
    for r in rows:
        table.add_row(*r)
    return table


@app.command("list")
def list_(
    status: str = typer.Option(None, help=f"Only batches with this status: {', '.join(STATUSES)}."),
    limit: int = typer.Option(20, min=1, max=1000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Ingestion batches, newest first; a run that died shows as interrupted (ingest its files again to resume)."""
    if status is not None and status not in STATUSES:
        fail(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    ing = ingestor()
    tz = ZoneInfo(ing.settings.timezone)
    total, rows = list_batches(ing, limit=limit, offset=offset, status=status)
    if as_json:
        print(json.dumps({"total": total, "items": [localise(r, tz) for r in rows]}, ensure_ascii=False,
                         indent=2))
        return
    title = f"导入批次 ingestion batches: {total}{' ' + status if status else ''} (times {tz.key})"
    heads = [("id", True), ("status", False), ("from", False), ("started", True), ("files", True), ("read", True),
             ("accepted", True), ("quar.", True), ("dupl.", True)]
    table = _table(title, heads, [
        [str(r["id"]), _status(r["status"]), r["origin"], _when(r["started_at"], tz)[:16], f"{r['files']:,}",
         f"{r['records_read']:,}", f"{r['accepted']:,}", f"{r['quarantined']:,}", f"{r['duplicates']:,}"]
        for r in rows
    ])
    console.print(table)
    if total > offset + len(rows):
        console.print(f"{total - offset - len(rows):,} older: --offset {offset + len(rows)}")


@app.command("show")
def show(
    batch_id: int,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One batch and its files: status, checkpoint, counts and, for a failed file, why."""
    ing = ingestor()
    tz = ZoneInfo(ing.settings.timezone)
    found = get_batch(ing, batch_id)
    if found is None:
        fail(f"no batch {batch_id}")
    files = found.pop("files")
    if as_json:
        print(json.dumps({**localise(found, tz), "files": [localise(f, tz) for f in files]},
                         ensure_ascii=False, indent=2))
        return
    console.print(f"batch {found['id']}: {_status(found['status'])} ({found['origin']}), "
                  f"started {_when(found['started_at'], tz)}"
                  + (f", finished {_when(found['finished_at'], tz)}" if found["finished_at"] else ""))
    heads = [("file", False), ("category", False), ("city", False), ("status", False), ("read", True),
             ("accepted", True), ("quar.", True), ("dupl.", True)]
    table = _table(None, heads, [
        [f["name"], f["category"], f["city_code"], _status(f["status"]), f"{f['records_read']:,}",
         f"{f['accepted']:,}", f"{f['quarantined']:,}", f"{f['duplicates']:,}"]
        for f in files
    ])
    console.print(table)
    for f in files:
        console.print(f"{f['name']}: mapping {f['mapping_id']} v{f['mapping_version']}, "
                      f"checkpoint at record {f['checkpoint']:,}", highlight=False)
        if f["error"]:
            console.print(f"[red]{f['name']}[/]: {f['error']}")
