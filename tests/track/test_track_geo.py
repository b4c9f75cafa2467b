"""Map layers: importing the city boundaries (checked before stored), serving them, and the checkpoints layer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from track_province import BINJIANG, BJ1, DEVICES, PARAMS, YZ1, World  # registered by conftest.py
from typer.testing import CliRunner

from lianfang.cli import app
from lianfang.demo.devices import build_devices
from lianfang.demo.geography import province
from lianfang.demo.geojson import write_geojson
from lianfang.platform import Platform
from lianfang.track.boundaries import GeoError, validate_boundaries

Login = Callable[..., TestClient]
Event = Callable[[], dict[str, Any]]
runner = CliRunner()
SQUARE = [[[115.0, 28.0], [116.0, 28.0], [116.0, 29.0], [115.0, 29.0], [115.0, 28.0]]]


def feature(code: Any = "360100", geometry: Any = None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code, "name": "滨江市", **props},
            "geometry": geometry if geometry is not None else {"type": "Polygon", "coordinates": SQUARE}}


def collection(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode()


@pytest.fixture
def cli_env(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The command line sees the test's store."""
    monkeypatch.setenv("LIANFANG_VAR_DIR", str(platform.settings.var_dir))
    monkeypatch.setenv("LIANFANG_DATABASE_URL", platform.settings.resolved_database_url())
    return platform


def test_the_demo_boundaries_import_and_are_served(cli_env: Platform, tmp_path: Path, login: Login) -> None:
    prov = province()
    write_geojson(tmp_path / "demo", prov, build_devices(prov, 8, 7))
    client = login("bj_inv")
    res = client.get("/api/v1/geo/cities")
    assert res.status_code == 404 and "lianfang geo import" in res.json()["detail"]
    result = runner.invoke(app, ["geo", "import", str(tmp_path / "demo" / "geo" / "cities.geojson")])
    assert result.exit_code == 0, result.output
    assert "imported 16 city boundaries" in result.output
    res = client.get("/api/v1/geo/cities")
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/geo+json")
    doc = res.json()
    assert len(doc["features"]) == 16
    codes = {f["properties"]["code"] for f in doc["features"]}
    assert {c.code for c in prov.cities} == codes
    # only geometry, code and name are kept
    assert all(set(f["properties"]) == {"code", "name"} for f in doc["features"])
    with cli_env.engine.connect() as conn:
        action = conn.execute(text("SELECT action FROM audit_event WHERE target LIKE '%geo:cities%'")).scalar()
    assert action == "admin.geo_import"


@pytest.mark.parametrize(("data", "message"), [
    (b"\xff\xfe not text", "not UTF-8"),
    (b'{"type": "FeatureCollection", "features": [', "not JSON"),
    (b'{"type": "FeatureCollection", "features": [], "x": NaN}', "not strict JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    (b'{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
    (collection(), "no features"),
    (collection({"type": "Point"}), "feature 1: not a GeoJSON Feature"),
    (collection(feature(code="3601")), "6-digit city division code"),
    (collection(feature(code=360100)), "6-digit city division code"),
    (collection(feature(code="360000")), "6-digit city division code"),  # the province, not a city
    (collection(feature(code="360102")), "6-digit city division code"),  # a district
    (collection(feature(), feature()), "appears twice"),
    (collection(feature(geometry={"type": "Point", "coordinates": [115, 28]})), "Polygon or MultiPolygon"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": [[[115, 28], [116, 28], [115, 28]]]})),
     "at least 4 positions"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": [[*SQUARE[0][:-1], [115.5, 28.5]]]})),
     "end where it starts"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": [[[215, 28], [116, 28], [116, 29], [215, 28]]]})),
     "outside longitude"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": [[["115", 28], [116, 28], [116, 29],
                                                                      ["115", 28]]]})), "numbers"),
    (collection(feature(geometry={"type": "MultiPolygon", "coordinates": []})), "at least one polygon"),
    (collection(feature(name=["x"])), "name"),
])
def test_malformed_boundaries_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(GeoError, match=message):
        validate_boundaries(data, 32 * 1024**2)


def test_multipolygons_and_the_city_code_property_are_accepted() -> None:
    doc = validate_boundaries(collection(
        feature(geometry={"type": "MultiPolygon", "coordinates": [SQUARE, SQUARE]}),
        {"type": "Feature", "properties": {"city_code": "360200"}, "geometry": {"type": "Polygon",
                                                                               "coordinates": SQUARE}},
    ), 1 << 20)
    assert [f["properties"] for f in doc["features"]] == [{"code": "360100", "name": "滨江市"},
                                                          {"code": "360200", "name": None}]


def test_a_file_over_the_size_cap_is_refused_unread(cli_env: Platform, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.geojson"
    path.write_bytes(collection(feature()))
    monkeypatch.setenv("LIANFANG_GEO_MAX_BYTES", "100")
    result = runner.invoke(app, ["geo", "import", str(path)])
    assert result.exit_code == 1 and "larger than 100 bytes" in result.output
    assert not (cli_env.settings.resolved_geo_dir() / "cities.geojson").exists()
    bad = tmp_path / "bad.geojson"
    bad.write_text("<kml/>", encoding="utf-8")
    monkeypatch.delenv("LIANFANG_GEO_MAX_BYTES")
    result = runner.invoke(app, ["geo", "import", str(bad)])
    assert result.exit_code == 1 and "not JSON" in result.output


def test_the_checkpoint_layer_shows_the_devices_the_reader_may_see(world: World, login: Login, event: Event,
                                                                   platform: Platform) -> None:
    client = login("bj_inv")
    res = client.get("/api/v1/geo/devices", params=PARAMS)
    assert res.status_code == 200, res.text
    doc = res.json()
    by_id = {f["properties"]["device_id"]: f for f in doc["features"]}
    assert set(by_id) == set(DEVICES)  # devices are internal: every city's are readable
    assert by_id[BJ1]["geometry"] == {"type": "Point", "coordinates": [115.86, 28.68]}
    assert by_id[BJ1]["properties"]["city_code"] == BINJIANG and by_id[BJ1]["properties"]["name"] == "八一大道卡口"
    ev = event()
    assert (ev["action"], ev["result_count"]) == ("data.layer", 4)
    # a device raised above what 滨江 reads of 云州 is not drawn, only counted
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE rec_device SET classification = 'sensitive' WHERE device_id = :d"), {"d": YZ1})
    doc = client.get("/api/v1/geo/devices", params=PARAMS).json()
    assert YZ1 not in {f["properties"]["device_id"] for f in doc["features"]}
    assert doc["counts"] == {"allow": 3, "mask": 1, "deny": 0}
    res = client.get("/api/v1/geo/devices")
    assert res.status_code == 403 and res.json()["detail"]["reason"] == "deny.purpose_missing"
