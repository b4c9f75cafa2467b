"""``lianfang quarantine list|show|retry``."""

from __future__ import annotations

import typer
from rich.table import Table

from lianfang.cli.common import audit_cli, console, fail, migrated, platform
from lianfang.ingest import quarantine as q
from lianfang.ingest.mapping import MappingError, load_mapping
from lianfang.ingest.pipeline import Ingestor

app = typer.Typer(no_args_is_help=True)


def ingestor(extra_mapping: str | None = None) -> Ingestor:
    """An ingestor on the configured store (migrated), with the built-in mappings and ``extra_mapping``."""
    plat = platform()
    migrated(plat)
    mappings = list(plat.mappings)
    if extra_mapping:
        from pathlib import Path

        try:
            newer = load_mapping(Path(extra_mapping), plat.standard)
        except MappingError as exc:
            fail(str(exc))
        mappings = [m for m in mappings if m.id != newer.id] + [newer]
    return Ingestor(
        engine=plat.engine,
        standard=plat.standard,
        keyring=plat.keyring,
        settings=plat.settings,
        mappings=mappings,
        on_stored=plat.watch.matcher,  # new sightings are matched against the watch lists
        metadata=plat.metadata,
    )


@app.command("list")
def list_(
    reason: str = typer.Option(None, help="Only entries with this reason code."),
    category: str = typer.Option(None),
    city: str = typer.Option(None),
    status: str = typer.Option("open", help="open, resolved or all."),
    limit: int = typer.Option(50),
    offset: int = typer.Option(0),
) -> None:
    """List quarantined records (reasons and source positions, never values)."""
    total, items = q.list_items(
        ingestor(),
        status=None if status == "all" else status,
        reason=reason,
        category=category,
        city=city,
        limit=limit,
        offset=offset,
    )
    table = Table(title=f"隔离区 quarantine: {total} {status}")
    for col in ("id", "file", "where", "category", "city", "reasons", "status"):
        table.add_column(col)
    for it in items:
        table.add_row(
            str(it.id),
            it.file_name,
            it.locator,
            it.category,
            it.city_code,
            ", ".join(f"{r['field'] or '-'}:{r['code']}" for r in it.reasons),
            it.status,
        )
    console.print(table)


@app.command("show")
def show(
    item_id: int, reveal: bool = typer.Option(False, help="Show personal values in clear.")
) -> None:
    """One quarantined record: its reasons, lineage and source fields (personal ones masked)."""
    ing = ingestor()
    found = q.get_item(ing, item_id)
    if found is None:
        fail(f"no quarantine entry {item_id}")
    item, fields, raw = found
    console.print(
        f"[bold]#{item.id}[/] {item.file_name} {item.locator} · {item.category} · "
        f"{item.city_code} · {item.mapping} · {item.status} · retries {item.retries}"
    )
    for r in item.reasons:
        console.print(f"  [red]{r['code']}[/] {r['field'] or ''} — {r['message']}")
    table = Table("source field", "value")
    shown = fields if reveal else q.masked_fields(ing, item, fields)
    for name, value in shown.items():
        table.add_row(name, "" if value is None else value)
    console.print(table)
    console.print(f"raw record: {len(raw)} bytes" + ("" if reveal else " (use --reveal to print)"))
    if reveal:
        console.print(raw.decode("utf-8", "replace"))


@app.command("retry")
def retry(
    ids: list[int] = typer.Argument(None, help="Entry ids (default: all open matching --reason)."),
    reason: str = typer.Option(None, help="Retry every open entry with this reason."),
    mapping: str = typer.Option(None, help="A corrected mapping file to use."),
    set_: list[str] = typer.Option(None, "--set", help="SOURCE_FIELD=VALUE correction."),
) -> None:
    """Re-process quarantined records after fixing a mapping or a value."""
    ing = ingestor(mapping)
    overrides = {}
    for item in set_ or []:
        if "=" not in item:
            fail(f"--set expects SOURCE_FIELD=VALUE, got {item.split('=')[0]!r}")
        key, value = item.split("=", 1)
        overrides[key] = value
    if not ids:
        _, items = q.list_items(ing, reason=reason, limit=1_000_000)
        ids = [it.id for it in items]
    try:
        out = q.retry(ing, ids, overrides=overrides)
    except MappingError as exc:
        fail(str(exc))
    audit_cli(platform(), "quarantine.retry", "ok", tuple(f"quarantine:{i}" for i in (ids or [])[:50]),
              corrected=sorted(overrides), mapping=mapping is not None, **dict(out.__dict__))
    console.print(
        f"retried {out.retried}: resolved {out.resolved}, duplicates {out.duplicates}, "
        f"still rejected {out.still_rejected}"
    )
