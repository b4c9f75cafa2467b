"""Search results as a CSV file: one category, each row exactly as the reader may see it.

Rendered from the projected group only (what :meth:`~lianfang.search.engine.Searcher.search`
returns), so a readable row carries its values, a masked hit its masked values
(``110105********002X``, ``张**``) and an empty cell for each withheld field, and a row
the reader may not even see as a hit is not there at all (the response says how many).
Columns: access, city, classification, record ID, then the category's fields in the
standard's order, then the lineage of readable rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lianfang.access.csvtext import csv_text
from lianfang.access.projection import LINEAGE
from lianfang.standard.model import Category

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


__all__ = ["FIRST", "file_name", "header", "search_csv"]
