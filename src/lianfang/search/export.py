"""Search results as a CSV file: one category, each row exactly as the reader may see it.

Rendered from the projected group only (what :meth:`~lianfang.search.engine.Searcher.search`
returns), so a readable row carries its values, a masked hit its masked values
(``110105********002X``, ``张**``) and an empty cell for each withheld field, and a row
the reader may not even see as a hit is not there at all (the response says how many).
Columns: access, city, classification, record ID, then the category's fields in the
standard's order, then the lineage of readable rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lianfang.access.csvtext import csv_text
from lianfang.access.projection import LINEAGE
from lianfang.standard.model import Category

if TYPE_CHECKING:
    from lianfang.identity.directory import User
    from lianfang.policy.decision import Purpose
    from lianfang.search.engine import Searcher
    from lianfang.search.recognise import QueryKind

FIRST = ("access", "city_code", "classification", "id")


def _fields(category: Category) -> list[str]:
    return [f for f in category.fields if f not in FIRST]  # city_code is a field of several categories


def header(category: Category) -> list[str]:
    return [*FIRST, *_fields(category), *(f"lineage_{k}" for k in LINEAGE)]


def search_csv(category: Category, items: list[dict[str, Any]]) -> str:
    """The rows of one search group (``Group.items``) as CSV text."""
    rows = []
    for item in items:
        values, masked = item.get("values", {}), item.get("masked", {})
        fields = [values[f] if f in values else masked.get(f) for f in _fields(category)]
        lineage = item.get("lineage") or {}
        rows.append([item["access"], item["city_code"], item["classification"], item["id"], *fields,
                     *(lineage.get(k) for k in LINEAGE)])
    return csv_text(header(category), rows)


def file_name(category: str, at: datetime) -> str:
    """``search-<category>-<yyyymmdd-hhmm>.csv``: never the query, which may be an ID, a phone or a name."""
    return f"search-{category}-{at.strftime('%Y%m%d-%H%M')}.csv"


@dataclass(frozen=True)
class SearchExport:
    """One category of a search as a file, and what it holds."""

    text: str
    file_name: str
    rows: int
    total: int  # matching records, whatever the reader may see
    withheld: int  # matches the reader may not see even as masked hits (not in the file)
    truncated: bool  # more matches than the export maximum


def export_search(searcher: Searcher, user: User, text: str, purpose: Purpose, *, category: str, limit: int,
                  now_ms: int, tz: ZoneInfo, client: str | None = None,
                  kind: QueryKind | None = None) -> SearchExport:
    """Search ``category`` for ``text`` (newest and best first, at most ``limit`` rows) and render the file.

    Audited by the search as one ``data.export`` event; raises what :meth:`Searcher.search` raises.
    """
    result = searcher.search(user, text, purpose, now_ms=now_ms, client=client, kind=kind, category=category,
                             page=1, size=limit, action="data.export",
                             detail={"format": "csv", "category": category})
    group = next((g for g in result.groups if g.category == category), None)
    items = group.items if group is not None else []
    at = datetime.fromtimestamp(now_ms / 1000, tz)
    return SearchExport(
        text=search_csv(searcher.targets.standard.category(category), items), file_name=file_name(category, at),
        rows=len(items), total=group.total if group is not None else 0,
        withheld=group.withheld if group is not None else 0,
        truncated=group is not None and group.total > limit,
    )


__all__ = ["FIRST", "SearchExport", "export_search", "file_name", "header", "search_csv"]
