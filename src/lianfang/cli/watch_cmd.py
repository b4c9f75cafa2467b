"""``lianfang watch add|list|remove|hits``: watch lists (布控) through the API, as a user.

Like the other data commands these call the server with an API token (scope
``data:read``): adding an entry is decided by the same approval rule as in the web UI
and audited as the token's user. A citizen ID is never taken as an argument (it would
sit in the shell history and the process list): ``--citizen-id -`` reads it from
standard input, or it is asked for without echo.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.table import Table

from lianfang.cli.api_client import TOKEN_OPTION, URL_OPTION, ApiClient
from lianfang.cli.common import console, fail

app = typer.Typer(no_args_is_help=True)

_ACCESS = {"allow": "[green]可见 full[/]", "mask": "[yellow]脱敏 masked[/]"}


def _print_json(value: Any) -> None:
    console.print_json(json.dumps(value, ensure_ascii=False))


@app.command("add")
def add(
    plate: str = typer.Option("", "--plate", help="Watch a plate (any spelling the standard normalises)."),
    person: bool = typer.Option(False, "--citizen-id", help="Watch a person: the citizen ID is read from "
                                "standard input when piped, else asked for without echo."),
    reason: str = typer.Option(..., "--reason", help="Why (stored encrypted)."),
    case_no: str = typer.Option(..., "--case-no", help="The case the watch serves."),
    purpose: str = typer.Option("case_investigation", "--purpose", help="Purpose code from the policy."),
    city: list[str] = typer.Option([], "--city", help="Repeatable: a city division code to watch (default: all)."),
    days: int = typer.Option(30, "--days", min=1, help="Expires after this many days."),
    as_json: bool = typer.Option(False, "--json", help="Print the API's JSON answer."),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Put a plate or a person on your watch list (other cities' sightings need an approved grant)."""
    if bool(plate) == person:
        fail("name exactly one subject: --plate PLATE or --citizen-id")
    subject = plate
    if person:
        subject = sys.stdin.readline().strip() if not sys.stdin.isatty() else typer.prompt(
            "公民身份号码 citizen ID", hide_input=True)
    body: dict[str, Any] = {"kind": "person" if person else "plate", "subject": subject, "reason": reason,
                            "purpose": purpose, "case_no": case_no, "days": days}
    if city:
        body["scope"] = city
    client = ApiClient(url, token)
    try:
        entry = client.post("/api/v1/watch/entries", body)
    finally:
        client.close()
    if as_json:
        _print_json(entry)
        return
    console.print(f"布控 watch {entry['id']} on {entry['subject']} in {', '.join(entry['scope'])} "
                  f"until {entry['expires_at']}" + (f"; grants {entry['grant_ids']}" if entry["grant_ids"] else ""))


@app.command("list")
def list_(
    status: str = typer.Option("active", "--status", help="active, removed, expired or all."),
    as_json: bool = typer.Option(False, "--json", help="Print the API's JSON answer."),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Your watch-list entries with their hit counts."""
    client = ApiClient(url, token)
    try:
        result = client.get("/api/v1/watch/entries", {"status": status})
    finally:
        client.close()
    if as_json:
        _print_json(result)
        return
    table = Table(title=f"布控 watch lists — {result['total']}", title_justify="left")
    for column in ("id", "subject", "case", "cities", "status", "expires", "hits", "unseen"):
        table.add_column(column)
    for e in result["items"]:
        table.add_row(str(e["id"]), e["subject"], e["case_no"], ",".join(e["scope"]), e["status"],
                      str(e["expires_at"])[:16], str(e["hits"]), str(e["unseen"]))
    console.print(table)


@app.command("remove")
def remove(
    entry_id: int = typer.Argument(..., help="The entry to end."),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """End one of your watch-list entries now (its hits stay readable)."""
    client = ApiClient(url, token)
    try:
        entry = client.delete(f"/api/v1/watch/entries/{entry_id}")
    finally:
        client.close()
    console.print(f"布控 watch {entry['id']} on {entry['subject']}: {entry['status']}")


@app.command("hits")
def hits(
    entry_id: int = typer.Option(0, "--entry", help="Only this entry's hits."),
    unseen: bool = typer.Option(False, "--unseen", help="Only hits not yet acknowledged."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print the API's JSON answer."),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Your hits, newest first, as the policy lets you see them now (masked where a grant is missing)."""
    client = ApiClient(url, token)
    try:
        result = client.get("/api/v1/watch/hits", {"entry_id": entry_id or None, "unseen": unseen or None,
                                                    "limit": limit})
    finally:
        client.close()
    if as_json:
        _print_json(result)
        return
    table = Table(title=f"命中 hits — {result['total']}", title_justify="left")
    for column in ("id", "watch", "subject", "city", "access", "time", "device"):
        table.add_column(column)
    for h in result["items"]:
        values = h["sighting"]["values"]
        table.add_row(str(h["id"]), str(h["entry"]["id"]), h["entry"]["subject"], h["city_code"],
                      _ACCESS.get(h["access"], h["access"]), str(values.get("passed_at") or "—")[:19],
                      str(values.get("device_id") or "—"))
    console.print(table)
    if result["hidden"]:
        console.print(f"{result['hidden']} hits not shown (no longer readable)")
