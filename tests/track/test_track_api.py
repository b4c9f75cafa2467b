"""Trajectories through the HTTP API: order, crossings, clone flags, the policy on every point, the audit trail."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from track_province import (  # registered by conftest.py
    BINJIANG,
    BJ1,
    BJ2,
    CASE,
    CLONED,
    PARAMS,
    STORY,
    YUNZHOU,
    YZ1,
    YZ_PLATE,
    World,
)

from lianfang.platform import Platform
from lianfang.policy.decision import Purpose, ScopeKind
from lianfang.standard.levels import Level
from lianfang.track import plate_target

Event = Callable[[], dict[str, Any]]
Login = Callable[..., TestClient]
URL = "/api/v1/trajectories/vehicle/"


def grant_vehicle(platform: Platform, holder: str, plate: str, *, case: str = CASE) -> int:
    """An approved grant for the plate's 云州 sightings, as 滨江's city approver would give it."""
    now = int(time.time() * 1000)
    if platform.directory.get("bj_appr") is None:
        platform.directory.add("bj_appr", display_name="bj_appr", unit_code=BINJIANG, unit_name=BINJIANG,
                               roles=["city_approver"], now_ms=now, password="Test-Password-2026")
    user, appr = platform.directory.get(holder), platform.directory.get("bj_appr")
    assert user is not None and appr is not None
    req = platform.approvals.request(user, owner_city=YUNZHOU, level=Level.SENSITIVE, scope=ScopeKind.VEHICLE,
                                     keys=[plate], purpose=Purpose("case_investigation", "", case), hours=8,
                                     now_ms=now)
    return platform.approvals.approve(appr, req.id, reason="同意", now_ms=now).id


def test_a_province_investigator_sees_the_whole_track_in_time_order(world: World, login: Login,
                                                                    event: Event) -> None:
    res = login("sheng_inv", unit="360000").get(URL + "赣a·7q777", params=PARAMS)  # any spelling
    assert res.status_code == 200, res.text
    track = res.json()
    assert track["plate"] == STORY
    assert [p["id"] for p in track["points"]] == world.sightings[STORY]
    assert [p["access"] for p in track["points"]] == ["allow"] * 4
    times = [p["passed_at"] for p in track["points"]]
    assert times == sorted(times) and "+08:00" in times[0]
    assert times[0].startswith(world.base.strftime("%Y-%m-%dT%H:%M"))
    first = track["points"][0]
    assert (first["device_id"], first["device_name"], first["city_code"]) == (BJ1, "八一大道卡口", BINJIANG)
    assert (first["longitude"], first["latitude"], first["speed_kmh"], first["direction"]) == (115.86, 28.68, 60, "2")
    assert [p["device_id"] for p in track["points"]] == [BJ1, BJ2, YZ1, YZ1]
    # one crossing, 滨江 → 云州, between the second and third sightings; no jump is implausible
    assert track["crossings"] == [{"from_id": world.sightings[STORY][1], "to_id": world.sightings[STORY][2],
                                   "from_city": BINJIANG, "to_city": YUNZHOU}]
    assert [p["enters_city"] for p in track["points"]] == [False, False, True, False]
    assert len(track["segments"]) == 3 and not any(s["clone_suspect"] for s in track["segments"])
    assert track["segments"][0]["distance_km"] == pytest.approx(4.6, abs=0.3)
    assert track["counts"] == {"allow": 4, "mask": 0, "deny": 0, "crossings": 1, "clone_suspects": 0}
    ev = event()
    assert (ev["action"], ev["outcome"], ev["result_count"], ev["purpose"], ev["case_no"]) == (
        "data.track", "allow", 4, "case_investigation", CASE)
    targets = json.loads(str(ev["target"]))
    assert targets == [plate_target(STORY), *(f"sighting:{i}" for i in world.sightings[STORY])]
    assert json.loads(str(ev["detail"]))["plate"] == STORY


def test_two_sightings_300_km_apart_ten_minutes_apart_are_flagged_as_a_cloned_plate(world: World, login: Login
                                                                                    ) -> None:
    track = login("sheng_inv", unit="360000").get(URL + CLONED, params=PARAMS).json()
    (seg,) = track["segments"]
    assert seg["clone_suspect"] and seg["distance_km"] == pytest.approx(300, abs=5) and seg["implied_kmh"] > 1000
    assert [p["clone_suspect"] for p in track["points"]] == [False, True]
    assert track["counts"]["clone_suspects"] == 1
    assert track["rule"] == {"max_kmh": 200.0, "tolerance_s": 60.0}


def test_binjiang_sees_its_own_points_in_full_and_yunzhou_only_masked(world: World, login: Login,
                                                                      event: Event) -> None:
    res = login("bj_inv").get(URL + STORY, params=PARAMS)
    assert res.status_code == 200, res.text
    track = res.json()
    ids = world.sightings[STORY]
    assert [p["id"] for p in track["points"]] == ids  # the masked points keep their place in the track
    assert [p["access"] for p in track["points"]] == ["allow", "allow", "mask", "mask"]
    for masked in track["points"][2:]:
        assert masked == {"id": masked["id"], "city_code": YUNZHOU, "access": "mask", "request_access": {
            "owner_city": YUNZHOU, "level": "sensitive", "scope": "vehicle", "keys": [STORY]}}
    # the crossing into 云州 is visible, the 云州 checkpoints, times and speeds are not
    assert track["crossings"] == [{"from_id": ids[1], "to_id": ids[2], "from_city": BINJIANG, "to_city": YUNZHOU}]
    assert YZ1 not in json.dumps(track) and "云州东卡口" not in json.dumps(track)
    assert len(track["segments"]) == 1
    assert track["counts"] == {"allow": 2, "mask": 2, "deny": 0, "crossings": 1, "clone_suspects": 0}
    ev = event()
    assert (ev["outcome"], ev["result_count"], ev["grant_id"]) == ("allow", 4, None)
    # a clone flag never rests on a point the reader may not see
    cloned = login("bj_inv2").get(URL + CLONED, params=PARAMS).json()
    assert [p["access"] for p in cloned["points"]] == ["allow", "mask"] and cloned["counts"]["clone_suspects"] == 0


def test_a_vehicle_grant_opens_the_yunzhou_points(world: World, login: Login, platform: Platform,
                                                  event: Event) -> None:
    client = login("bj_inv")
    grant = grant_vehicle(platform, "bj_inv", STORY)
    track = client.get(URL + STORY, params=PARAMS).json()
    assert [p["access"] for p in track["points"]] == ["allow"] * 4
    assert track["points"][2]["device_name"] == "云州东卡口" and track["points"][2]["grants"] == [grant]
    assert event()["grant_id"] == grant
    # the grant is bound to its case: another case number sees the masked track again
    other = client.get(URL + STORY, params={**PARAMS, "case_no": "A3601002026119999"}).json()
    assert [p["access"] for p in other["points"]] == ["allow", "allow", "mask", "mask"]
    # and to its plate
    cloned = client.get(URL + CLONED, params=PARAMS).json()
    assert [p["access"] for p in cloned["points"]] == ["allow", "mask"]


def test_a_top_secret_sighting_is_only_counted(world: World, login: Login, platform: Platform) -> None:
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE rec_sighting SET classification = 'top_secret' WHERE id = :i"),
                     {"i": world.sightings[STORY][3]})
    track = login("bj_inv").get(URL + STORY, params=PARAMS).json()
    assert [p["id"] for p in track["points"]] == world.sightings[STORY][:3]
    assert track["counts"]["deny"] == 1


@pytest.mark.parametrize(("params", "reason"), [
    ({}, "deny.purpose_missing"),
    ({"purpose": "case_investigation"}, "deny.case_number_required"),
    ({"purpose": "curiosity", "case_no": CASE}, "deny.purpose_unknown"),
])
def test_a_track_needs_a_purpose_and_a_case_number(world: World, login: Login, event: Event,
                                                   params: dict[str, str], reason: str) -> None:
    res = login("bj_inv").get(URL + STORY, params=params)
    assert res.status_code == 403 and res.json()["detail"]["reason"] == reason
    assert "message" in res.json()["detail"]
    ev = event()
    assert (ev["action"], ev["outcome"]) == ("data.track", "denied")
    assert json.loads(str(ev["detail"]))["reason"] == reason


def test_roles_that_read_no_records_are_refused(world: World, login: Login) -> None:
    res = login("auditor1", role="auditor").get(URL + STORY, params=PARAMS)
    assert res.status_code == 403 and res.json()["detail"]["reason"] == "deny.no_data_access"


def test_bad_plates_and_windows_are_clear_400s(world: World, login: Login) -> None:
    client = login("bj_inv")
    res = client.get(URL + "not-a-plate", params=PARAMS)
    assert res.status_code == 400 and "plate" in res.json()["detail"] and "not-a-plate" not in res.text
    day = world.base.date()
    res = client.get(URL + STORY, params={**PARAMS, "since": str(day), "until": str(day - timedelta(days=1))})
    assert res.status_code == 400 and "reversed" in res.json()["detail"]
    res = client.get(URL + STORY, params={**PARAMS, "since": str(day - timedelta(days=100)), "until": str(day)})
    assert res.status_code == 400 and "92 days" in res.json()["detail"]
    res = client.get(URL + STORY, params={**PARAMS, "since": "last tuesday"})
    assert res.status_code == 400 and "ISO 8601" in res.json()["detail"]


def test_the_window_bounds_which_sightings_come_back(world: World, login: Login) -> None:
    client = login("sheng_inv", unit="360000")
    start = world.base + timedelta(minutes=5)  # naive local times, read in Asia/Shanghai
    params = {**PARAMS, "since": start.strftime("%Y-%m-%dT%H:%M:%S"),
              "until": (world.base + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M:%S")}
    track = client.get(URL + STORY, params=params).json()
    assert [p["id"] for p in track["points"]] == world.sightings[STORY][1:3]
    old = {**PARAMS, "until": (world.base - timedelta(days=1)).isoformat()}
    assert client.get(URL + STORY, params=old).json()["points"] == []


def test_a_long_track_is_cut_at_the_configured_maximum(world: World, login: Login, platform: Platform) -> None:
    platform.settings.track_max_points = 3
    platform.__dict__.pop("trajectories", None)
    track = login("sheng_inv", unit="360000").get(URL + STORY, params=PARAMS).json()
    assert track["truncated"] and [p["id"] for p in track["points"]] == world.sightings[STORY][:3]


def test_the_track_is_refused_when_the_audit_trail_is_down(world: World, login: Login, platform: Platform) -> None:
    client = login("bj_inv")
    with platform.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event RENAME TO audit_event_away"))
    res = client.get(URL + STORY, params=PARAMS)
    assert res.status_code == 503 and "points" not in res.text


# -- a person's vehicles --------------------------------------------------------------------


def test_a_person_track_follows_the_vehicles_whose_owner_the_reader_may_read(world: World, login: Login,
                                                                             event: Event) -> None:
    res = login("bj_inv").get(f"/api/v1/trajectories/person/{world.owner}", params=PARAMS)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["person"] == {"id": world.owner, "city_code": YUNZHOU, "access": "mask",
                              "classification": "sensitive"}
    by_city = {v["vehicle"]["city_code"]: v for v in body["vehicles"]}
    # 赣A7Q777 is registered in 滨江: the owner field is 滨江's own sensitive data, so the link is followed
    mine = by_city[BINJIANG]
    assert mine["vehicle"]["values"]["plate_no"] == STORY
    assert [p["access"] for p in mine["track"]["points"]] == ["allow", "allow", "mask", "mask"]
    # 赣B55555 is registered in 云州: its owner is masked for 滨江, so neither plate nor track is given
    theirs = by_city[YUNZHOU]
    assert theirs["track"] is None and theirs["vehicle"]["access"] == "mask"
    assert YZ_PLATE not in res.text
    assert body["counts"]["vehicles"] == 2 and body["counts"]["allow"] == 2 and body["counts"]["mask"] == 2
    assert set(theirs["vehicle"]) == {"category", "id", "city_code", "access", "request_access"}
    assert mine["vehicle"]["values"]["owner_citizen_id"] == "360202199001010013"  # 滨江's own record, in full
    ev = event()
    targets = json.loads(str(ev["target"]))
    assert targets[0] == f"person:{world.owner}" and plate_target(STORY) in targets
    detail = json.loads(str(ev["detail"]))
    assert ev["action"] == "data.track" and ev["outcome"] == "mask" and "person_digest" in detail


def test_the_owner_link_is_followed_only_where_the_owner_field_is_readable(world: World, login: Login) -> None:
    body = login("yz_inv", unit=YUNZHOU).get(f"/api/v1/trajectories/person/{world.owner}", params=PARAMS).json()
    assert body["person"]["access"] == "allow"
    by_city = {v["vehicle"]["city_code"]: v for v in body["vehicles"]}
    # 云州's own vehicle: followed (no sightings in the window); 滨江's: its owner field is 滨江's sensitive data
    assert by_city[YUNZHOU]["vehicle"]["values"]["plate_no"] == YZ_PLATE
    assert by_city[YUNZHOU]["track"]["points"] == []
    assert by_city[BINJIANG]["track"] is None and by_city[BINJIANG]["vehicle"]["request_access"]["keys"] == [
        f"vehicle:{by_city[BINJIANG]['vehicle']['id']}"]


def test_a_hidden_person_is_the_same_404_as_a_missing_one(world: World, login: Login, event: Event) -> None:
    client = login("bj_inv")
    hidden = client.get(f"/api/v1/trajectories/person/{world.secret_person}", params=PARAMS)
    assert event()["outcome"] == "hidden"
    missing = client.get("/api/v1/trajectories/person/999999", params=PARAMS)
    assert event()["outcome"] == "not_found"
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(str(world.secret_person), "N") == missing.json()["detail"].replace(
        "999999", "N")
    res = client.get(f"/api/v1/trajectories/person/{world.owner}", params={"purpose": "case_investigation"})
    assert res.status_code == 403 and res.json()["detail"]["reason"] == "deny.case_number_required"
