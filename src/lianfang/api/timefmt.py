"""API responses carry times as ISO 8601 in the platform's zone (Asia/Shanghai by default)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo


def localise(row: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """Copy of ``row`` with every ``*_at`` epoch-millisecond value as an ISO 8601 string."""
    out = dict(row)
    for key, value in row.items():
        if key.endswith("_at") and isinstance(value, int):
            out[key] = datetime.fromtimestamp(value / 1000, UTC).astimezone(tz).isoformat(timespec="seconds")
    return out
