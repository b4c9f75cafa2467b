"""``lianfang track PLATE`` (a trajectory, through the HTTP API) and ``lianfang geo import`` (map boundaries)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import typer
from rich.table import Table

from lianfang.cli.api_client import TOKEN_OPTION, URL_OPTION, ApiClient
from lianfang.cli.common import audit_cli, console, fail, migrated, platform
from lianfang.track.boundaries import GeoError, boundaries_file, import_boundaries

geo_app = typer.Typer(no_args_is_help=True)


def track(
    plate: str = typer.Argument(..., help="Plate number, any spelling the standard normalises (赣A·12345)."),
    since: str = typer.Option("", "--since", help="Start, ISO 8601 (default: 30 days before --until)."),
    until: str = typer.Option("", "--until", help="End, ISO 8601 (default: now)."),
    purpose: str = typer.Option(..., "--purpose", help="Purpose code from the policy (case_investigation, …)."),
    case_no: str = typer.Option(..., "--case-no", help="Case number: trajectories are sensitive data."),
    fmt: str = typer.Option("table", "--format", help="table, csv or geojson."),
    out: Path | None = typer.Option(None, "--out", help="Write csv/geojson to this file instead of stdout."),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """A plate's trajectory across all cities, as the server lets you see it (audited there)."""
    if fmt not in ("table", "csv", "geojson"):
        fail("--format is table, csv or geojson")
    client = ApiClient(url, token)
    params = {"since": since, "until": until, "purpose": purpose, "case_no": case_no}
    path = f"/api/v1/trajectories/vehicle/{quote(plate.strip(), safe='')}"
    try:
        if fmt == "table":
            _table(client.get(path, params))
            return
        body = client.get_raw(path + "/export", {**params, "format": fmt}).content
    finally:
        client.close()
    if out is None:
        typer.echo(body.decode("utf-8-sig"), nl=False)
    else:
        out.write_bytes(body)
        console.print(f"written {out}")


def _table(track: dict[str, Any]) -> None:
    counts = track["counts"]
    table = Table(title=f"{track['plate']}  {track['since'][:16]} → {track['until'][:16]}")
    table.add_column("#", justify="right")
    table.add_column("时间 time", no_wrap=True)
    table.add_column("市 city", no_wrap=True)
    table.add_column("卡口 checkpoint")
    for col in ("方向 dir", "车速 km/h", "距离 km", "推算 km/h"):
        table.add_column(col, justify="right")
    table.add_column("标记 flags")
    for i, p in enumerate(track["points"], 1):
        if p["access"] != "allow":
            table.add_row(str(i), "—", p["city_code"], "[dim]已遮蔽 masked[/]", "", "", "", "", _flags(p, track))
            continue
        place = p.get("device_name") or p.get("device_id") or ""
        table.add_row(str(i), str(p["passed_at"])[:16].replace("T", " "), p["city_code"], str(place),
                      str(p.get("direction") or ""), _num(p.get("speed_kmh")), _num(p.get("distance_km")),
                      _num(p.get("implied_kmh")), _flags(p, track))
    console.print(table)
    console.print(f"可见 shown {counts['allow']} · 遮蔽 masked {counts['mask']} · 不可见 not shown {counts['deny']} · "
                  f"跨市 crossings {counts['crossings']} · 疑似套牌 clone suspects {counts['clone_suspects']}"
                  + (" · [yellow]截断 truncated: narrow the window[/]" if track.get("truncated") else ""))
    if counts["mask"]:
        cities = sorted({p["city_code"] for p in track["points"] if p["access"] == "mask"})
        console.print(f"[dim]遮蔽的过车可向所属市申请授权 masked sightings: ask {', '.join(cities)} for access to "
                      f"vehicle {track['plate']} (scope vehicle, same purpose and case number)[/]")


def _flags(p: dict[str, Any], track: dict[str, Any]) -> str:
    flags = []
    crossing = next((c for c in track["crossings"] if c["to_id"] == p["id"]), None)
    if crossing:
        flags.append(f"[cyan]跨市 {crossing['from_city']}→{crossing['to_city']}[/]")
    if p.get("clone_suspect"):
        flags.append("[bold red]疑似套牌 clone?[/]")
    return " ".join(flags)


def _num(v: Any) -> str:
    return "" if v is None else f"{v:g}" if isinstance(v, float) else str(v)


@geo_app.command("import")
def geo_import(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoJSON FeatureCollection.")
               ) -> None:
    """Check a city-boundaries GeoJSON file and make it the map's boundaries layer (audited)."""
    plat = platform()
    migrated(plat)
    s = plat.settings
    try:
        n = import_boundaries(file, s.resolved_geo_dir(), s.geo_max_bytes)
    except GeoError as exc:
        fail(f"{file.name}: {exc}")
    audit_cli(plat, "admin.geo_import", "ok", ("geo:cities",), features=n)
    console.print(f"imported {n} city boundaries into {boundaries_file(s.resolved_geo_dir())}")


@geo_app.command("show")
def geo_show() -> None:
    """The imported boundaries layer: cities and their codes."""
    path = boundaries_file(platform().settings.resolved_geo_dir())
    if not path.is_file():
        fail("no city boundaries have been imported (lianfang geo import FILE)")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for f in doc["features"]:
        console.print(f"{f['properties']['code']}  {f['properties'].get('name') or ''}")
