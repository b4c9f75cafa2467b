"""A trajectory as a file: CSV (one row per point) or GeoJSON (points and the segments between them).

Both are rendered from the projected track only (what
:meth:`~lianfang.track.service.Trajectories.export_plate` returns), so they hold
exactly what the reader may see: a masked point is a row with its order, city
and access and nothing else (in GeoJSON a feature whose geometry is ``null``);
denied points are not there at all.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from lianfang.access.csvtext import csv_text

FORMATS = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}

CSV_COLUMNS = (
    "seq", "access", "city_code", "enters_city", "passed_at", "sighting_id", "plate_no", "device_id", "device_name",
    "road_name", "longitude", "latitude", "direction", "speed_kmh", "lane_no", "distance_km", "implied_kmh",
    "clone_suspect",
)  # fmt: skip


def _crossing_targets(track: dict[str, Any]) -> set[int]:
    return {int(c["to_id"]) for c in track.get("crossings", [])}


def to_csv(track: dict[str, Any]) -> str:
    """CSV text (see :mod:`lianfang.access.csvtext`)."""
    entering = _crossing_targets(track)
    rows = []
    for seq, p in enumerate(track["points"], 1):
        if p["access"] != "allow":
            row = {"seq": seq, "access": p["access"], "city_code": p["city_code"],
                   "enters_city": int(p["id"]) in entering}
        else:
            row = {**p, "seq": seq, "sighting_id": p["id"]}
        rows.append([row.get(c) for c in CSV_COLUMNS])
    return csv_text(CSV_COLUMNS, rows)


def to_geojson(track: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection: one feature per point (masked: no geometry), one LineString per placed segment."""
    entering = _crossing_targets(track)
    features: list[dict[str, Any]] = []
    placed: dict[int, list[float]] = {}
    for seq, p in enumerate(track["points"], 1):
        if p["access"] != "allow":
            props = {"seq": seq, "access": p["access"], "city_code": p["city_code"],
                     "enters_city": int(p["id"]) in entering}
            features.append({"type": "Feature", "geometry": None, "properties": props})
            continue
        geometry = None
        if p.get("longitude") is not None and p.get("latitude") is not None:
            placed[int(p["id"])] = [p["longitude"], p["latitude"]]
            geometry = {"type": "Point", "coordinates": placed[int(p["id"])]}
        props = {k: p.get(k) for k in CSV_COLUMNS if k not in ("seq", "sighting_id")}
        features.append({"type": "Feature", "geometry": geometry,
                         "properties": {"seq": seq, "sighting_id": p["id"], **props}})
    for s in track.get("segments", []):
        a, b = placed.get(int(s["from_id"])), placed.get(int(s["to_id"]))
        if a is None or b is None:
            continue
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [a, b]},
                         "properties": {"kind": "segment", **s}})
    return {"type": "FeatureCollection", "properties": {"plate": track["plate"], "since": track["since"],
                                                         "until": track["until"]}, "features": features}


def render(track: dict[str, Any], fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(track).encode("utf-8")
    if fmt == "geojson":
        return (json.dumps(to_geojson(track), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    raise ValueError(f"export format is one of {sorted(FORMATS)}")


def file_name(track: dict[str, Any], fmt: str) -> str:
    """``trajectory-<since>-<until>.<ext>``: dates only, never a plate, name or ID."""
    day = [datetime.fromisoformat(track[k]).strftime("%Y%m%d") for k in ("since", "until")]
    return f"trajectory-{day[0]}-{day[1]}.{fmt}"


__all__ = ["CSV_COLUMNS", "FORMATS", "file_name", "render", "to_csv", "to_geojson"]
