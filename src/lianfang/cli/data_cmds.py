"""``lianfang source check``, ``db upgrade`` and ``keys init``."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from lianfang.cli.common import console, fail, platform
from lianfang.ingest.mapping import MappingError, load_mapping
from lianfang.ingest.preview import preview
from lianfang.ingest.readers import HostileInput

source_app = typer.Typer(no_args_is_help=True)
db_app = typer.Typer(no_args_is_help=True)
keys_app = typer.Typer(no_args_is_help=True)


@source_app.command("check")
def check(
    mapping: Path,
    file: Path,
    limit: int = typer.Option(10, help="Records to show."),
    scan: int = typer.Option(1000, help="Records to scan for problems."),
    reveal: bool = typer.Option(False, help="Show personal values in clear."),
) -> None:
    """Preview a file through a mapping and list problems. Nothing is stored."""
    plat = platform()
    try:
        m = load_mapping(mapping, plat.standard)
        pv = preview(
            m,
            file,
            plat.standard,
            tz=ZoneInfo(plat.settings.timezone),
            limit=limit,
            scan=scan,
            reveal=reveal,
        )
    except (MappingError, HostileInput) as exc:
        fail(str(exc))
    if pv.missing_columns:
        console.print(
            f"[red]columns named by the mapping but absent from the file: {pv.missing_columns}[/]"
        )
    for row in pv.rows:
        table = Table(title=f"{row.locator} → {pv.category}", show_header=False)
        for name, value in row.values.items():
            table.add_row(name, "" if value is None else value)
        for p in row.problems:
            table.add_row(f"[red]{p.field or '-'}[/]", f"[red]{p.code}: {p.message}[/]")
        console.print(table)
    bad = sum(pv.problems.values())
    console.print(
        f"{pv.mapping}: scanned {pv.scanned} records, {bad} problems"
        + (": " + ", ".join(f"{c} {n}" for c, n in pv.problems.most_common()) if bad else "")
    )


@db_app.command("upgrade")
def upgrade() -> None:
    """Create or upgrade the schema to the newest revision."""
    plat = platform()
    with console.status("checking the schema") as status:

        def applying(revision: str, title: str) -> None:
            console.print(f"applying migration {revision}: {title}")
            status.update(f"migration {revision} running (it may rewrite a big table: this can take minutes)")

        plat.migrate(on_revision=applying)
    console.print(f"schema up to date at {plat.engine.url.render_as_string(hide_password=True)}")


@db_app.command("reindex-phonetic")
def reindex_phonetic_cmd() -> None:
    """Fill the sound-alike name index for records stored before it existed (resumable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from lianfang.store.reindex import missing_sound_keys, reindex_phonetic

    plat = platform()
    todo = missing_sound_keys(plat.engine, plat.metadata, plat.standard)
    if not todo:
        console.print("every phonetic name already has its sound key")
        return
    with Progress(TextColumn("sound keys"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as bar:
        task = bar.add_task("reindex", total=todo)
        done = reindex_phonetic(plat.engine, plat.metadata, plat.standard, plat.cipher, plat.blind,
                                progress=lambda n: bar.advance(task, n))
    console.print(f"filled sound keys for {done} records")


@keys_app.command("init")
def init() -> None:
    """Create the master key file if it does not exist (never overwrites)."""
    plat = platform()
    path = plat.settings.resolved_key_file()
    if plat.ensure_key():
        console.print(
            f"created master key {path} (mode 0600) — back it up separately from the database"
        )
    else:
        console.print(f"master key {path} already exists; left unchanged")
    if not path.exists():
        fail("key file could not be created")
