"""The province's layout: cities, neighbours, districts, devices and their IDs."""

from __future__ import annotations

import json
from typing import Any

from lianfang.demo.devices import TYPE_CODES, build_devices
from lianfang.demo.geography import distance_km, point_in_polygon, province


def test_sixteen_cities_on_a_grid_with_shared_borders() -> None:
    p = province()
    assert [c.code for c in p.cities] == [f"36{n:02d}00" for n in range(1, 17)]
    assert (p.city(1).name, p.city(2).name) == ("滨江市", "云州市")
    assert 2 in p.city(1).neighbours
    for city in p.cities:
        assert city.polygon[0] == city.polygon[-1]
        assert 3 <= len(city.districts) <= 6
        assert all(2 <= len(d.stations) <= 4 for d in city.districts)
        for n in city.neighbours:
            assert city.index in p.city(n).neighbours
            border = p.border(city.index, n)
            assert all(pt in city.polygon and pt in p.city(n).polygon for pt in border)
        for x, y in city.polygon:
            assert 113.0 < x < 119.0 and 24.0 < y < 30.0


def test_devices_lie_in_their_city_with_valid_ids() -> None:
    p = province()
    net = build_devices(p, 40, seed=3)
    ids = [d.id for d in net.devices]
    assert len(set(ids)) == len(ids)
    for d in net.devices:
        city = p.city(d.city)
        assert point_in_polygon((d.lon, d.lat), city.polygon), d
        assert len(d.id) == 20 and d.id.isdigit() and d.id.startswith(d.division)
        assert d.division[:4] == city.code[:4] and d.id[10:13] == TYPE_CODES[d.kind]
    for (a, b), device in net.border.items():
        other = net.devices[net.border[(b, a)]]
        here = net.devices[device]
        assert here.city == a and other.city == b
        assert distance_km((here.lon, here.lat), (other.lon, other.lat)) < 5


def test_geojson_files(small: Any) -> None:
    cities = json.loads((small.root / "geo" / "cities.geojson").read_text(encoding="utf-8"))
    devices = json.loads((small.root / "geo" / "devices.geojson").read_text(encoding="utf-8"))
    assert len(cities["features"]) == 16
    assert {f["geometry"]["type"] for f in cities["features"]} == {"Polygon"}
    assert cities["features"][0]["properties"]["name"] == "滨江市"
    reference = (small.root / "reference" / "device.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(devices["features"]) == len(reference)
