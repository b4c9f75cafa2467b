"""``provincial``: the provincial data centre's clean reference exports (UTF-8, standard names).

Jurisdictions and police units as CSV, devices as JSON lines; each row names its city.
"""

from __future__ import annotations

from lianfang.demo.systems.base import Column, Layout, System


def _same(*fields: str) -> tuple[Column, ...]:
    return tuple(Column(f, f) for f in fields)


SYSTEM = System(
    key="provincial", vendor="sjzx", format="csv", extension="csv",
    source={"format": "csv", "encoding": "utf-8", "delimiter": ","},
    layouts={
        "jurisdiction": Layout("jurisdiction", "jurisdiction",
                               _same("code", "name", "level", "parent_code", "city_code")),
        "unit": Layout("unit", "unit",
                       _same("unit_code", "name", "unit_kind", "jurisdiction_code", "phone", "city_code")),
        "device": Layout("device", "device",
                         _same("device_id", "name", "device_kind", "longitude", "latitude",
                               "division_code", "road_name", "city_code"), format="jsonl"),
    },
)
