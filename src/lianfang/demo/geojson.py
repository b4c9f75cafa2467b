"""``geo/cities.geojson`` (city boundaries) and ``geo/devices.geojson`` (device points)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lianfang.demo.devices import DeviceNet
from lianfang.demo.geography import Province


def _dump(path: Path, features: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def write_geojson(out: Path, province: Province, net: DeviceNet) -> list[str]:
    cities = [{
        "type": "Feature",
        "properties": {"code": c.code, "name": c.name, "slug": c.slug, "plate_letter": c.plate_letter,
                       "neighbours": [province.city(n).code for n in c.neighbours],
                       "districts": [{"code": d.code, "name": d.name, "centre": list(d.centre)}
                                     for d in c.districts]},
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in c.polygon]]},
    } for c in province.cities]
    devices = [{
        "type": "Feature",
        "properties": {"device_id": d.id, "name": d.name, "device_kind": d.kind,
                       "city_code": province.city(d.city).code, "division_code": d.division,
                       "border_to": province.city(d.border_to).code if d.border_to else None},
        "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
    } for d in net.devices]
    _dump(out / "geo" / "cities.geojson", cities)
    _dump(out / "geo" / "devices.geojson", devices)
    return ["geo/cities.geojson", "geo/devices.geojson"]
