"""``lianfang search``: the one-click query from the command line, through the API as a user."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from lianfang.cli.api_client import TOKEN_OPTION, URL_OPTION, ApiClient
from lianfang.cli.common import console

_LABELS = {"person": "人员 persons", "vehicle": "车辆 vehicles", "case": "案件 cases", "sighting": "过车 sightings",
           "alert": "预警 alerts", "help_request": "求助 calls for help", "device": "设备 devices"}
_ACCESS = {"allow": "[green]可见 full[/]", "mask": "[yellow]脱敏 masked[/]"}
_SUMMARY = ("plate_no", "name", "citizen_id", "case_no", "title", "passed_at", "device_id", "alert_no",
            "request_no", "occurred_at", "issued_at", "received_at", "owner_name", "brand")


def search(
    query: str = typer.Argument(..., help="Citizen ID, plate, phone, case number, device ID or name [city] [year]."),
    purpose: str = typer.Option(..., "--purpose", help="Purpose code (案件侦查 case_investigation, …)."),
    case_no: str = typer.Option("", "--case-no", help="Case number; needed for sensitive data."),
    category: str = typer.Option("", "--category", help="Only this category (to page through it)."),
    page: int = typer.Option(1, "--page", min=1),
    size: int = typer.Option(0, "--size", min=0, help="Results per category (0: the server's default)."),
    as_json: bool = typer.Option(False, "--json", help="Print the API's JSON answer."),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Search all cities at once; every row as your account may see it (masked hits marked)."""
    client = ApiClient(url, token)
    body: dict[str, Any] = {"q": query, "purpose": purpose, "case_no": case_no, "page": page}
    if category:
        body["category"] = category
    if size:
        body["size"] = size
    try:
        result = client.post("/api/v1/search", body)
    finally:
        client.close()
    if as_json:
        console.print_json(json.dumps(result, ensure_ascii=False))
        return
    console.print(f"查询类型 kind: [bold]{result['kind']}[/]")
    for group in result["groups"]:
        if not group["total"]:
            continue
        table = Table(title=f"{_LABELS.get(group['category'], group['category'])} — {group['total']}",
                      title_justify="left")
        for column in ("id", "city", "access", "level", "summary"):
            table.add_column(column)
        for item in group["items"]:
            shown = {**item["masked"], **item["values"]}
            summary = " · ".join(str(shown[k]) for k in _SUMMARY if shown.get(k) not in (None, ""))
            table.add_row(str(item["id"]), item["city_code"], _ACCESS.get(item["access"], item["access"]),
                          item["classification"], summary[:90])
        console.print(table)
        notes = []
        if group["withheld"]:
            notes.append(f"{group['withheld']} not shown")
        if group["needs_case_no"]:
            notes.append(f"{group['needs_case_no']} need --case-no")
        if group["total"] > group["page"] * group["size"]:
            notes.append(f"more: --category {group['category']} --page {group['page'] + 1}")
        if notes:
            console.print("  " + "; ".join(notes))
    masked = sum(1 for g in result["groups"] for i in g["items"] if i["access"] == "mask")
    if masked:
        console.print(f"[yellow]{masked} masked hits[/]: request access in the web UI (授权申请) to read them")
