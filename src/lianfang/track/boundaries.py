"""City boundaries for the map: an operator imports a GeoJSON file, the API serves it back.

Nothing is fetched from the internet: the boundaries come from a file the operator
supplies (the demo writes ``geo/cities.geojson``) and are checked before they are
stored as ``<geo_dir>/cities.geojson``:

* at most ``geo_max_bytes`` (read no further), UTF-8 JSON (``NaN`` and
  ``Infinity`` refused);
* a ``FeatureCollection`` of 1–:data:`MAX_FEATURES` features, each a ``Polygon``
  or ``MultiPolygon`` with closed rings of WGS-84 positions;
* each feature names its city with a 6-digit city division code (``360100``: not
  a province, not a district) in the property ``code`` (or ``city_code``), once.

What is stored keeps only the geometry, the code and the name, so the map layer
serves nothing the operator did not mean to publish.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

MAX_FEATURES = 1000
_CITY = re.compile(r"^\d{4}00$")
FILE_NAME = "cities.geojson"


class GeoError(ValueError):
    """A boundaries file that cannot be imported; the message says what is wrong and where."""


def boundaries_file(geo_dir: Path) -> Path:
    return geo_dir / FILE_NAME


def read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing it before reading past ``max_bytes``."""
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise GeoError(f"cannot read the file: {exc.strerror or exc.__class__.__name__}") from None
    if len(data) > max_bytes:
        raise GeoError(f"the file is larger than {max_bytes} bytes (geo_max_bytes)")
    return data


def _refuse_constant(name: str) -> float:
    raise GeoError(f"not strict JSON: {name} is not a number")


def validate_boundaries(data: bytes, max_bytes: int) -> dict[str, Any]:
    """The checked FeatureCollection, reduced to geometry, code and name per city."""
    if len(data) > max_bytes:
        raise GeoError(f"the file is larger than {max_bytes} bytes (geo_max_bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GeoError("not UTF-8 text") from None
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except GeoError:
        raise
    except (ValueError, RecursionError):
        raise GeoError("not JSON") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise GeoError('not a GeoJSON FeatureCollection ({"type": "FeatureCollection", "features": [...]})')
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise GeoError("the FeatureCollection has no features")
    if len(features) > MAX_FEATURES:
        raise GeoError(f"more than {MAX_FEATURES} features")
    out, seen = [], set()
    for i, feature in enumerate(features, 1):
        code, name, geometry = _feature(i, feature)
        if code in seen:
            raise GeoError(f"feature {i}: city {code} appears twice")
        seen.add(code)
        out.append({"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry})
    return {"type": "FeatureCollection", "features": out}


def _feature(i: int, feature: Any) -> tuple[str, str | None, dict[str, Any]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise GeoError(f"feature {i}: not a GeoJSON Feature")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise GeoError(f"feature {i}: no properties")
    code = props.get("code", props.get("city_code"))
    if not isinstance(code, str) or not _CITY.match(code) or code.endswith("0000"):
        raise GeoError(f"feature {i}: the property 'code' must be a 6-digit city division code such as 360100")
    name = props.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 60):
        raise GeoError(f"feature {i}: the property 'name' must be text of at most 60 characters")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise GeoError(f"feature {i}: the geometry must be a Polygon or MultiPolygon")
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise GeoError(f"feature {i}: a MultiPolygon needs at least one polygon")
    for polygon in polygons:
        _polygon(i, polygon)
    return code, name, {"type": geometry["type"], "coordinates": coords}


def _polygon(i: int, rings: Any) -> None:
    if not isinstance(rings, list) or not rings:
        raise GeoError(f"feature {i}: a polygon is a list of linear rings")
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            raise GeoError(f"feature {i}: a linear ring has at least 4 positions")
        for pos in ring:
            _position(i, pos)
        if ring[0] != ring[-1]:
            raise GeoError(f"feature {i}: a linear ring must end where it starts")


def _position(i: int, pos: Any) -> None:
    if not isinstance(pos, list) or len(pos) not in (2, 3):
        raise GeoError(f"feature {i}: a position is [longitude, latitude]")
    for v in pos:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise GeoError(f"feature {i}: coordinates must be numbers")
    lon, lat = pos[0], pos[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeoError(f"feature {i}: a position lies outside longitude -180..180 / latitude -90..90")


def import_boundaries(source: Path, geo_dir: Path, max_bytes: int) -> int:
    """Check ``source`` and store it as the boundaries layer (atomically); returns the number of cities."""
    doc = validate_boundaries(read_capped(source, max_bytes), max_bytes)
    geo_dir.mkdir(parents=True, exist_ok=True)
    target = boundaries_file(geo_dir)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return len(doc["features"])


__all__ = ["FILE_NAME", "MAX_FEATURES", "GeoError", "boundaries_file", "import_boundaries", "read_capped",
           "validate_boundaries"]
