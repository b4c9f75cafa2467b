"""Exports of a trajectory: CSV and GeoJSON hold what the reader may see, and every export is audited."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from track_province import BINJIANG, BJ1, CASE, PARAMS, STORY, YUNZHOU, YZ1, World  # registered by conftest.py

from lianfang.track import plate_target
from lianfang.track.export import CSV_COLUMNS, to_csv

Login = Callable[..., TestClient]
Event = Callable[[], dict[str, Any]]
URL = f"/api/v1/trajectories/vehicle/{STORY}/export"


def test_csv_export_has_masked_points_as_city_only_rows(world: World, login: Login, event: Event) -> None:
    res = login("bj_inv").get(URL, params={**PARAMS, "format": "csv"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/csv")
    disposition = res.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"trajectory-") and disposition.endswith('.csv"')
    assert STORY not in disposition and "7Q777" not in disposition
    rows = list(csv.DictReader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert [r["access"] for r in rows] == ["allow", "allow", "mask", "mask"]
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert (rows[0]["device_id"], rows[0]["device_name"], rows[0]["city_code"]) == (BJ1, "八一大道卡口", BINJIANG)
    assert rows[0]["sighting_id"] == str(world.sightings[STORY][0]) and rows[0]["plate_no"] == STORY
    for masked in rows[2:]:  # only the order, the city and the access: nothing else of a 云州 sighting
        assert {k for k, v in masked.items() if v} <= {"seq", "access", "city_code", "enters_city"}
        assert masked["city_code"] == YUNZHOU
    assert rows[2]["enters_city"] == "1"
    assert YZ1 not in res.text and "云州东卡口" not in res.text
    ev = event()
    assert (ev["action"], ev["outcome"], ev["result_count"], ev["case_no"]) == ("data.export", "allow", 4, CASE)
    assert json.loads(str(ev["target"]))[0] == plate_target(STORY)
    assert json.loads(str(ev["detail"]))["format"] == "csv"


def test_geojson_export_draws_readable_points_and_segments_only(world: World, login: Login, event: Event) -> None:
    res = login("bj_inv").get(URL, params={**PARAMS, "format": "geojson"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/geo+json")
    assert res.headers["content-disposition"].endswith('.geojson"')
    doc = res.json()
    assert doc["type"] == "FeatureCollection" and doc["properties"]["plate"] == STORY
    points = [f for f in doc["features"] if f["properties"].get("kind") != "segment"]
    assert [f["properties"]["access"] for f in points] == ["allow", "allow", "mask", "mask"]
    assert points[0]["geometry"] == {"type": "Point", "coordinates": [115.86, 28.68]}
    for masked in points[2:]:
        assert masked["geometry"] is None
        assert set(masked["properties"]) == {"seq", "access", "city_code", "enters_city"}
    (segment,) = [f for f in doc["features"] if f["properties"].get("kind") == "segment"]
    assert segment["geometry"]["type"] == "LineString" and len(segment["geometry"]["coordinates"]) == 2
    ev = event()
    assert (ev["action"], ev["result_count"]) == ("data.export", 4)
    assert json.loads(str(ev["detail"]))["format"] == "geojson"


def test_an_export_needs_a_case_number_and_a_known_format(world: World, login: Login, event: Event) -> None:
    client = login("bj_inv")
    res = client.get(URL, params={"purpose": "case_investigation", "format": "csv"})
    assert res.status_code == 403 and res.json()["detail"]["reason"] == "deny.case_number_required"
    ev = event()
    assert (ev["action"], ev["outcome"]) == ("data.export", "denied")
    assert client.get(URL, params={**PARAMS, "format": "xlsx"}).status_code == 422


def test_spreadsheet_formulas_in_source_text_are_defused() -> None:
    track = {"plate": STORY, "since": "2026-03-01T00:00:00+08:00", "until": "2026-03-02T00:00:00+08:00",
             "crossings": [], "segments": [],
             "points": [{"id": 1, "access": "allow", "city_code": BINJIANG, "device_name": "=HYPERLINK(\"x\")",
                         "road_name": "+1", "passed_at": "2026-03-01T08:00:00+08:00", "speed_kmh": 60.0}]}
    (row,) = csv.DictReader(io.StringIO(to_csv(track).lstrip("\ufeff")))
    assert row["device_name"].startswith("'=") and row["road_name"] == "'+1" and row["speed_kmh"] == "60.0"
