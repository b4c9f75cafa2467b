"""``lianfang standard show|docs``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lianfang.cli.common import console, fail
from lianfang.standard import load_standard
from lianfang.standard.docs import render_markdown
from lianfang.standard.export import standard_as_dict

app = typer.Typer(no_args_is_help=True)


@app.command("show")
def show(
    category: str = typer.Argument(None, help="One category (person, sighting, ...)."),
    lang: str = typer.Option("zh", help="Label language: zh or en."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show the categories and fields of the standard."""
    std = load_standard()
    if as_json:
        console.print_json(json.dumps(standard_as_dict(std, lang), ensure_ascii=False))
        return
    names = [category] if category else list(std.categories)
    for name in names:
        if name not in std.categories:
            fail(f"unknown category {name!r}; known: {', '.join(std.categories)}")
        cat = std.category(name)
        table = Table(title=f"{cat.label.get(lang)} ({cat.name}) — key: {', '.join(cat.key)}")
        for col in ("field", "label", "type", "required", "level", "personal", "encrypted"):
            table.add_column(col)
        for f in cat.fields.values():
            table.add_row(
                f.name,
                f.label.get(lang),
                f.type + (f":{f.code_table}" if f.code_table else ""),
                "✓" if f.required else "",
                f.level.value,
                "✓" if f.personal else "",
                "SM4" if f.encrypted else "",
            )
        console.print(table)


@app.command("docs")
def docs(
    out: Path = typer.Option(Path("docs/standard.md"), help="Where to write the Markdown."),
    check: bool = typer.Option(False, help="Only check that the file is up to date."),
) -> None:
    """Regenerate docs/standard.md from the YAML (or --check that it is current)."""
    text = render_markdown(load_standard())
    if check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            fail(f"{out} is stale: run `lianfang standard docs`")
        console.print(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}")
