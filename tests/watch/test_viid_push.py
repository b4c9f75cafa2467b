"""GA/T 1400 checkpoint pushes: POST /VIID/MotorVehicles, ingested like a file, answered per object."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from watch_world import PASSWORD, PLATE, PURPOSE, TZ, YUNZHOU, events, hits, now_ms, user  # conftest.py

from lianfang.api.app import create_app
from lianfang.platform import Platform

URL = "/VIID/MotorVehicles"
TOLLGATE = "36020200001190000001"  # a 云州 checkpoint (division 360202)


def pass_time(minutes_ago: int = 5) -> str:
    return (datetime.now(TZ) - timedelta(minutes=minutes_ago)).strftime("%Y%m%d%H%M%S")


def vehicle(serial: int, plate: str = PLATE, **over: Any) -> dict[str, Any]:
    at = over.pop("PassTime", pass_time(serial % 50 + 1))
    source = f"{TOLLGATE}02{at}{serial:05d}"
    obj = {"MotorVehicleID": f"{source}02{serial:05d}", "InfoKind": 1, "SourceID": source, "TollgateID": TOLLGATE,
           "DeviceID": TOLLGATE, "LaneNo": 2, "HasPlate": "1", "PlateClass": "02", "PlateColor": "5",
           "PlateNo": plate, "Speed": 62, "Direction": "1", "VehicleClass": "K33", "VehicleColor": "2",
           "PassTime": at}
    obj.update(over)
    return obj


def envelope(*objects: Any) -> dict[str, Any]:
    return {"MotorVehicleListObject": {"MotorVehicleObject": list(objects)}}


def token(platform: Platform, username: str, unit: str, role: str = "steward",
          scopes: frozenset[str] = frozenset({"viid:push"})) -> str:
    platform.directory.add(username, display_name=username, unit_code=unit, unit_name=unit, roles=[role],
                           now_ms=now_ms(), password=PASSWORD)
    return platform.tokens.create(username, "checkpoint", set(scopes), days=1, now_ms=now_ms())[1]


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(create_app(platform), base_url="https://testserver")


@pytest.fixture
def yz_kakou(platform: Platform) -> dict[str, str]:
    """云州's checkpoint system account: a steward of 云州 with a viid:push token."""
    return {"Authorization": f"Bearer {token(platform, 'yz_kakou', '360202')}",
            "Content-Type": "application/VIID+JSON;charset=UTF-8"}


def statuses(res: Any) -> list[dict[str, Any]]:
    assert res.headers["content-type"].startswith("application/VIID+JSON"), res.headers
    body = res.json()
    assert set(body) == {"ResponseStatusListObject"}
    out: list[dict[str, Any]] = body["ResponseStatusListObject"]["ResponseStatusObject"]
    for s in out:
        assert set(s) == {"Id", "RequestURL", "StatusCode", "StatusString", "LocalTime"}
        assert s["RequestURL"] == URL and re.fullmatch(r"\d{14}", s["LocalTime"])
    return out


def test_accepted_objects_are_stored_with_their_ids_as_lineage(platform: Platform, client: TestClient,
                                                               yz_kakou: dict[str, str]) -> None:
    objs = [vehicle(1), vehicle(2, "赣B12345")]
    res = client.post(URL, content=json.dumps(envelope(*objs), ensure_ascii=False).encode(), headers=yz_kakou)
    assert res.status_code == 200, res.text
    got = statuses(res)
    assert [(s["Id"], s["StatusCode"], s["StatusString"]) for s in got] == [
        (objs[0]["MotorVehicleID"], 0, "OK"), (objs[1]["MotorVehicleID"], 0, "OK")]
    now = datetime.now(TZ)
    assert abs((datetime.strptime(got[0]["LocalTime"], "%Y%m%d%H%M%S").replace(tzinfo=TZ) - now).total_seconds()) < 300
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT plate_no, city_code, device_id, source_record_id, kind, lane_no "
                                 "FROM rec_sighting ORDER BY id")).all()
        origin = conn.execute(text("SELECT origin FROM ingest_batch")).scalar()
    assert [tuple(r) for r in rows] == [(PLATE, YUNZHOU, TOLLGATE, objs[0]["MotorVehicleID"], "vehicle", 2),
                                        ("赣B12345", YUNZHOU, TOLLGATE, objs[1]["MotorVehicleID"], "vehicle", 2)]
    assert origin == "viid"
    (ev,) = events(platform, "viid.push")
    assert ev["outcome"] == "ok" and ev["result_count"] == 2 and ev["detail"]["stored"] == 2
    assert ev["detail"]["mapping"] == "demo.yunzhou.yz-viid@v1" and ev["target"][0].startswith("batch:")


def test_duplicates_and_invalid_objects_are_answered_each(platform: Platform, client: TestClient,
                                                          yz_kakou: dict[str, str]) -> None:
    first = vehicle(1)
    assert statuses(client.post(URL, json=envelope(first), headers=yz_kakou))[0]["StatusCode"] == 0
    resent = {**first, "MotorVehicleID": first["MotorVehicleID"][:-5] + "99999"}  # the same pass, a new ID
    bad_plate = vehicle(3, "not-a-plate")
    no_time = vehicle(4)
    del no_time["PassTime"]
    fifth = vehicle(5)  # built once: pass times follow the wall clock
    res = client.post(URL, json=envelope(resent, bad_plate, no_time, "not an object", fifth), headers=yz_kakou)
    assert res.status_code == 200
    got = [(s["Id"], s["StatusCode"], s["StatusString"]) for s in statuses(res)]
    assert got[0] == (resent["MotorVehicleID"], 0, "OK: duplicate, already stored")
    assert got[1][0] == bad_plate["MotorVehicleID"] and got[1][1] == 8 and "plate." in got[1][2]
    assert got[2][1] == 8 and got[2][2].startswith("Invalid JSON Content:") and "required" in got[2][2]
    assert got[3] == ("", 8, "Invalid JSON Content: parse.record")
    assert got[4] == (fifth["MotorVehicleID"], 0, "OK")
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rec_sighting")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM quarantine")).scalar() == 3
    ev = events(platform, "viid.push")[-1]
    assert ev["detail"] | {"mapping": ""} == {"via": "token", "token": ev["detail"]["token"], "mapping": "",
                                               "objects": 5, "stored": 1, "duplicate": 1, "quarantined": 3,
                                               "refused": 0, "failed": 0}


def test_the_same_body_pushed_again_is_answered_as_duplicates(platform: Platform, client: TestClient,
                                                               yz_kakou: dict[str, str]) -> None:
    body = envelope(vehicle(1), vehicle(2, "bad"))
    client.post(URL, json=body, headers=yz_kakou)
    again = statuses(client.post(URL, json=body, headers=yz_kakou))
    assert [(s["StatusCode"], s["StatusString"][:30]) for s in again] == [
        (0, "OK: duplicate, already stored"), (8, "Invalid JSON Content: plate.fo")]


def test_malformed_bodies_are_refused_with_a_status_too(platform: Platform, client: TestClient,
                                                        yz_kakou: dict[str, str]) -> None:
    res = client.post(URL, content=b'{"MotorVehicleListObject": {', headers=yz_kakou)
    assert res.status_code == 400 and [(s["Id"], s["StatusCode"]) for s in statuses(res)] == [("", 7)]
    res = client.post(URL, content="\xff".encode("latin-1"), headers=yz_kakou)
    assert res.status_code == 400 and statuses(res)[0]["StatusCode"] == 7
    res = client.post(URL, json={"FaceListObject": {"FaceObject": []}}, headers=yz_kakou)
    assert res.status_code == 400 and statuses(res)[0]["StatusCode"] == 8
    res = client.post(URL, json=envelope(), headers=yz_kakou)
    assert res.status_code == 400 and statuses(res)[0]["StatusCode"] == 8
    platform.settings.viid_max_objects = 2
    res = client.post(URL, json=envelope(vehicle(1), vehicle(2), vehicle(3)), headers=yz_kakou)
    assert res.status_code == 413 and statuses(res)[0]["StatusCode"] == 8
    platform.settings.viid_max_body_bytes = 2048
    res = client.post(URL, json=envelope(*[vehicle(i) for i in range(1, 3)], {"pad": "x" * 4000}), headers=yz_kakou)
    assert res.status_code == 413 and statuses(res)[0]["StatusCode"] == 8
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rec_sighting")).scalar() == 0
    assert [e["outcome"] for e in events(platform, "viid.push")] == ["denied"] * 6


def test_only_a_citys_checkpoint_account_may_push_and_only_its_own_devices(
        platform: Platform, client: TestClient, yz_kakou: dict[str, str]) -> None:
    body = envelope(vehicle(1))
    res = client.post(URL, json=body)
    assert res.status_code == 401 and statuses(res)[0]["StatusCode"] == 1
    read_only = token(platform, "yz_reader", "360202", scopes=frozenset({"ingest:write", "data:read"}))
    res = client.post(URL, json=body, headers={"Authorization": f"Bearer {read_only}"})
    assert res.status_code == 401
    investigator = token(platform, "yz_inv", "360202", role="investigator")
    res = client.post(URL, json=body, headers={"Authorization": f"Bearer {investigator}"})
    assert res.status_code == 403 and statuses(res)[0]["StatusCode"] == 4
    binjiang = token(platform, "bj_kakou", "360102")  # 滨江 has no GA/T 1400 feed
    res = client.post(URL, json=body, headers={"Authorization": f"Bearer {binjiang}"})
    assert res.status_code == 422 and "360100" in statuses(res)[0]["StatusString"]
    province = token(platform, "sheng_kakou", "360000")
    res = client.post(URL, json=body, headers={"Authorization": f"Bearer {province}"})
    assert res.status_code == 403 and statuses(res)[0]["StatusCode"] == 4
    named = {**yz_kakou, "X-Lianfang-Mapping": "demo.binjiang.bj-zhxt"}  # another city's mapping
    assert client.post(URL, json=body, headers=named).status_code == 422
    foreign = vehicle(2, TollgateID="36010200001190000001", DeviceID="36010200001190000001")
    got = statuses(client.post(URL, json=envelope(foreign, vehicle(3)), headers=yz_kakou))
    assert got[0]["StatusCode"] == 4 and "not in city 360200" in got[0]["StatusString"]
    assert got[1]["StatusCode"] == 0
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rec_sighting")).scalar() == 1
    named = {**yz_kakou, "X-Lianfang-Mapping": "demo.yunzhou.yz-viid"}
    assert statuses(client.post(URL, json=envelope(vehicle(4)), headers=named))[0]["StatusCode"] == 0


def test_a_pushed_pass_of_a_watched_plate_makes_a_hit(platform: Platform, client: TestClient,
                                                       yz_kakou: dict[str, str]) -> None:
    yz = user(platform, "yz_inv", unit="360202")
    entry = platform.watch.entries.add(yz, kind="plate", subject=PLATE, reason="嫌疑车辆", purpose=PURPOSE,
                                       scope=[YUNZHOU], expires_at=now_ms() + 86_400_000, now_ms=now_ms())
    statuses(client.post(URL, json=envelope(vehicle(1, "赣B12345"), vehicle(2)), headers=yz_kakou))
    (hit,) = hits(platform)
    assert hit["entry_id"] == entry.id and hit["owner_id"] == yz.id and hit["city_code"] == YUNZHOU
