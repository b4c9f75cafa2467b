"""The 滨江 → 云州 story and the cloned plates are in the files where the manifest says,
clean, and physically consistent; ordinary vehicles drive at plausible speeds."""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from datetime import datetime
from typing import Any

import demo_support as support


def _devices(small: Any) -> dict[str, dict[str, Any]]:
    lines = (small.root / "reference" / "device.jsonl").read_text(encoding="utf-8").splitlines()
    return {d["device_id"]: d for d in map(json.loads, lines)}


def _km(a: dict[str, Any], b: dict[str, Any]) -> float:
    lat = math.radians((a["latitude"] + b["latitude"]) / 2)
    return math.hypot((b["longitude"] - a["longitude"]) * 111.32 * math.cos(lat),
                      (b["latitude"] - a["latitude"]) * 110.57)


def _values(small: Any, path: str, position: int) -> dict[str, object]:
    file = small.files[path]
    record = file.records[position - 1]
    assert record.fields is not None
    return support.validate(file.category, support.apply(file.mapping, file.feed, record.fields))


def test_story_records_are_where_the_manifest_says(small: Any) -> None:
    story = small.manifest["story"]
    defects, dups = small.defects(), small.duplicates()
    suspect = story["suspect"]
    assert suspect["city"] == "360200" and suspect["person_tag"] == "04"
    person = _values(small, suspect["file"], suspect["position"])
    assert person["citizen_id"] == suspect["citizen_id"] and person["person_tag"] == "04"
    assert person["name"] == suspect["name"] and suspect["file"].startswith("360200-yunzhou/")
    vehicle = story["vehicle"]
    assert vehicle["plate_no"].startswith("赣A") and vehicle["city"] == "360100"
    stored = _values(small, vehicle["file"], vehicle["position"])
    assert stored["plate_no"] == vehicle["plate_no"] and stored["owner_citizen_id"] == suspect["citizen_id"]
    cases = story["cases"]
    assert 3 <= len(cases) <= 5
    assert {c["category"] for c in cases} <= {"0101", "0102"}
    assert any(c["suspect_plate_no"] == vehicle["plate_no"] for c in cases)
    times = [datetime.fromisoformat(c["occurred_at"]) for c in cases]
    assert times == sorted(times) and (times[-1] - times[0]).days <= 7
    for case in cases:
        assert case["file"].startswith("360100-binjiang/")
        rec = _values(small, case["file"], case["position"])
        assert rec["case_no"] == case["case_no"] and len(case["case_no"]) == 23
        assert case["case_no"][1:13] == case["unit_code"]
    every = [(c["file"], c["position"]) for c in cases] + [(s["file"], s["position"]) for s in story["sightings"]]
    every += [(suspect["file"], suspect["position"]), (vehicle["file"], vehicle["position"])]
    assert not set(every) & (set(defects) | set(dups)), "story records are clean"


def test_story_sightings_follow_each_theft_and_cross_into_yunzhou(small: Any) -> None:
    story = small.manifest["story"]
    devices = _devices(small)
    sightings = story["sightings"]
    times = [datetime.fromisoformat(s["passed_at"]) for s in sightings]
    assert times == sorted(times)
    for n, case in enumerate(story["cases"]):
        after = [s for s in sightings if s["after_case"] == n]
        assert after and all(datetime.fromisoformat(s["passed_at"]) > datetime.fromisoformat(case["occurred_at"])
                             for s in after)
    cities = [s["city"] for s in sightings]
    assert cities[0] == "360100" and cities[-1] == "360200"
    assert cities == sorted(cities), "滨江 first, then 云州, no way back"
    crossing = story["crossing"]
    assert (crossing["from_city"], crossing["to_city"]) == ("360100", "360200")
    exit_device, entry_device = devices[crossing["exit"]["device_id"]], devices[crossing["entry"]["device_id"]]
    assert "界卡口" in exit_device["name"] and "界卡口" in entry_device["name"]
    assert _km(exit_device, entry_device) < 5
    for s in sightings:
        assert devices[s["device_id"]]["city_code"] == s["city"]
        rec = _values(small, s["file"], s["position"])
        assert rec["plate_no"] == story["vehicle"]["plate_no"] and rec["device_id"] == s["device_id"]
        assert rec["passed_at"] == datetime.fromisoformat(s["passed_at"])
        if s["city"] == "360200":
            assert "-viid/" in s["file"], "云州's plate sightings come from its GA/T 1400 feed"
    for a, b in itertools.pairwise(sightings):
        hours = (datetime.fromisoformat(b["passed_at"]) - datetime.fromisoformat(a["passed_at"])).total_seconds() / 3600
        if a["after_case"] == b["after_case"]:
            assert _km(devices[a["device_id"]], devices[b["device_id"]]) / hours < 100


def test_clones_are_far_apart_minutes_apart(small: Any) -> None:
    clones = small.manifest["clones"]
    assert len(clones) >= 3
    for clone in clones:
        genuine = _values(small, clone["genuine"]["file"], clone["genuine"]["position"])
        assert genuine["plate_no"] == clone["plate_no"]
        for seen in clone["clone"]:
            copy = _values(small, seen["file"], seen["position"])
            assert copy["plate_no"] == clone["plate_no"]
            assert seen["city"] != clone["genuine"]["city"]
        assert clone["distance_km"] > 200 and clone["minutes_apart"] < 15


def test_vehicles_drive_at_plausible_speeds(small: Any) -> None:
    devices = _devices(small)
    cloned = {c["plate_no"] for c in small.manifest["clones"]}
    skip = set(small.defects()) | set(small.duplicates())
    passes: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for path, file in small.files.items():
        if file.category != "sighting":
            continue
        for record in file.records:
            if (path, record.position) in skip or record.fields is None:
                continue
            values = support.validate("sighting", support.apply(file.mapping, file.feed, record.fields))
            if values["kind"] == "vehicle" and values["plate_no"] not in cloned:
                passes[str(values["plate_no"])].append((values["passed_at"], str(values["device_id"])))  # type: ignore[arg-type]
    fastest = 0.0
    crossings = 0
    for chain in passes.values():
        chain.sort()
        for (t1, d1), (t2, d2) in itertools.pairwise(chain):
            seconds = (t2 - t1).total_seconds()
            assert seconds >= 20
            fastest = max(fastest, _km(devices[d1], devices[d2]) / (seconds / 3600))
            crossings += devices[d1]["city_code"] != devices[d2]["city_code"]
    assert fastest < 100, f"a car drove {fastest:.0f} km/h between checkpoints"
    assert crossings > 20, "some vehicles travel into neighbouring cities"
