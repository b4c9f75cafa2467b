"""The live hit stream (server-sent events) against a real server on loopback.

Tests assert that a hit arrives, not how fast: the waits below are generous bounds for a
loaded machine, never timing claims. The ingest-to-delivery figure each event carries
(``latency_ms``) is what ``make bench`` reports.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from watch_world import (  # registered by conftest.py
    BINJIANG,
    BOUND,
    CASE,
    PASSWORD,
    PLATE,
    YUNZHOU,
    Listener,
    Running,
    add_plate,
    bearer,
    events,
    grant,
    hits,
    ingest,
    now_ms,
    passed,
)

from lianfang.api.routes import watch as watch_routes
from lianfang.identity.directory import User
from lianfang.identity.totp import code_at
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform
from lianfang.policy.decision import ScopeKind


def wait_until(check: Any) -> None:
    deadline = time.monotonic() + BOUND
    while not check():
        assert time.monotonic() < deadline, "condition not reached within the bound"
        time.sleep(0.05)


def test_a_new_sighting_of_a_watched_plate_arrives_as_an_event(
        platform: Platform, server: Running, ing: Ingestor, tmp_path: Path) -> None:
    headers, _ = bearer(platform, "bj_inv")
    inv = platform.directory.get("bj_inv")
    assert inv is not None
    entry = add_plate(platform, inv)
    listener = Listener(server.url, headers).start()
    started = time.monotonic()
    ingest(ing, tmp_path, BINJIANG, [{"plate": "赣B12345"}, {"plate": PLATE}])
    ev = listener.next("hit")
    elapsed = time.monotonic() - started
    assert elapsed < BOUND
    (stored,) = hits(platform)
    hit = json.loads(ev["data"])
    assert ev["id"] == str(stored["id"]) == str(hit["id"])
    assert hit["entry"]["id"] == entry.id and hit["access"] == "allow" and hit["city_code"] == BINJIANG
    assert hit["sighting"]["values"]["plate_no"] == PLATE and hit["sighting"]["id"] == stored["record_id"]
    assert hit["latency_ms"] >= 0 and platform.watch.hits.latency.values()
    (audited,) = events(platform, "data.watch_hit")
    assert audited["detail"]["via"] == "stream" and audited["case_no"] == entry.case_no
    assert audited["target"] == [f"watch:{entry.id}", f"sighting:{stored['record_id']}"]


def test_a_reconnect_resumes_after_the_last_event_id(
        platform: Platform, server: Running, ing: Ingestor, tmp_path: Path) -> None:
    headers, _ = bearer(platform, "bj_inv")
    inv = platform.directory.get("bj_inv")
    assert inv is not None
    add_plate(platform, inv)
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE, "at": passed(3)}])
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE, "at": passed(2)}])
    first, second = (h["id"] for h in hits(platform))
    resumed = Listener(server.url, {**headers, "Last-Event-ID": str(first)}).start()
    assert resumed.next("hit")["id"] == str(second)
    backlog = Listener(server.url, headers, {"after": 0}).start()
    assert [backlog.next("hit")["id"], backlog.next("hit")["id"]] == [str(first), str(second)]
    fresh = Listener(server.url, headers).start()  # no Last-Event-ID: only what comes next
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE, "at": passed(1)}])
    assert fresh.next("hit")["id"] == str(hits(platform)[-1]["id"])


def test_a_gat1400_push_reaches_the_watchers_stream(platform: Platform, server: Running) -> None:
    headers, _ = bearer(platform, "yz_inv", unit="360202")
    yz = platform.directory.get("yz_inv")
    assert yz is not None
    add_plate(platform, yz, scope=[YUNZHOU])
    platform.directory.add("yz_kakou", display_name="卡口", unit_code="360202", unit_name="云州", roles=["steward"],
                           now_ms=now_ms(), password=PASSWORD)
    push_token = platform.tokens.create("yz_kakou", "kakou", {"viid:push"}, days=1, now_ms=now_ms())[1]
    listener = Listener(server.url, headers).start()
    obj = {"MotorVehicleID": "360202000011900000010220261130100000000010200001", "TollgateID":
           "36020200001190000001", "PlateNo": PLATE, "PlateClass": "02", "PassTime": passed(1)}
    res = httpx.post(f"{server.url}/VIID/MotorVehicles", timeout=BOUND,
                     json={"MotorVehicleListObject": {"MotorVehicleObject": [obj]}},
                     headers={"Authorization": f"Bearer {push_token}"})
    assert res.json()["ResponseStatusListObject"]["ResponseStatusObject"][0]["StatusCode"] == 0, res.text
    hit = json.loads(listener.next("hit")["data"])
    assert hit["city_code"] == YUNZHOU and hit["sighting"]["values"]["plate_no"] == PLATE


def test_a_hit_whose_grant_was_revoked_is_streamed_masked(
        platform: Platform, server: Running, ing: Ingestor, appr: User, tmp_path: Path) -> None:
    headers, _ = bearer(platform, "bj_inv")
    inv = platform.directory.get("bj_inv")
    assert inv is not None
    g = grant(platform, inv, appr, YUNZHOU, ScopeKind.VEHICLE, [PLATE])
    add_plate(platform, inv, scope=[YUNZHOU])
    platform.approvals.revoke(appr, g.id, reason="", now_ms=now_ms())
    listener = Listener(server.url, headers).start()
    ingest(ing, tmp_path, YUNZHOU, [{"plate": PLATE}])
    hit = json.loads(listener.next("hit")["data"])
    assert hit["access"] == "mask" and hit["sighting"]["values"] == {} and hit["city_code"] == YUNZHOU
    assert "passed_at" in hit["sighting"]["withheld"] and "device_id" in hit["sighting"]["withheld"]
    assert events(platform, "data.watch_hit")[-1]["outcome"] == "mask"


def test_the_stream_stops_when_the_client_goes(platform: Platform, server: Running) -> None:
    headers, _ = bearer(platform, "bj_inv")
    listener = Listener(server.url, headers).start()
    assert platform.watch.hits.open_streams == 1
    listener.stop.set()
    wait_until(listener.done.is_set)
    wait_until(lambda: platform.watch.hits.open_streams == 0)


def test_the_stream_ends_when_the_server_stops(platform: Platform, server: Running) -> None:
    headers, _ = bearer(platform, "bj_inv")
    listener = Listener(server.url, headers).start()
    server.server.should_exit = True
    end = listener.next("end")
    assert json.loads(end["data"]) == {"reason": "server_stopping"}
    wait_until(listener.done.is_set)
    server.thread.join(BOUND)
    assert not server.thread.is_alive()


def test_the_stream_ends_when_its_token_is_revoked(platform: Platform, server: Running,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_routes, "STREAM_RECHECK_S", 0.2)
    headers, token_id = bearer(platform, "bj_inv")
    listener = Listener(server.url, headers).start()
    platform.tokens.revoke(token_id, now_ms=now_ms())
    assert json.loads(listener.next("end")["data"]) == {"reason": "signed_out"}
    again = Listener(server.url, headers)
    threading.Thread(target=again._run, daemon=True).start()
    assert again.next("refused") and again.status == 401


def test_the_stream_ends_after_its_lifetime(platform: Platform, server: Running) -> None:
    headers, _ = bearer(platform, "bj_inv")
    listener = Listener(server.url, headers, {"max_s": 0.5}).start()
    assert json.loads(listener.next("end")["data"]) == {"reason": "lifetime"}


@pytest.mark.parametrize("resume", [b"\xb2", b"99999999999999999999", b"12a"], ids=["superscript-two", "huge", "mixed"])
def test_a_last_event_id_that_is_no_hit_id_is_ignored(platform: Platform, server: Running, resume: bytes) -> None:
    """A Unicode digit (the header's byte 0xB2 reads as "²", which ``isdigit``) or an id beyond 64 bits used
    to end the request in a 500 (int() of "²", a driver overflow)."""
    headers, _ = bearer(platform, "bj_inv")
    listener = Listener(server.url, {**headers, "Last-Event-ID": resume}, {"max_s": 0.5}).start()
    assert json.loads(listener.next("end")["data"]) == {"reason": "lifetime"}


def test_a_signed_in_browser_session_streams_until_it_signs_out(
        platform: Platform, server: Running, ing: Ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_routes, "STREAM_RECHECK_S", 0.2)
    platform.settings.cookie_secure = False  # plain HTTP on loopback, as `lianfang serve` without --tls
    cred = platform.directory.add("bj_web", display_name="web", unit_code="360102", unit_name="滨江",
                                  roles=["investigator"], now_ms=now_ms(), password=PASSWORD)
    web = httpx.Client(base_url=server.url, timeout=BOUND)
    res = web.post("/api/v1/auth/sign-in", json={"username": "bj_web", "password": PASSWORD,
                                                 "code": code_at(cred.totp_secret, time.time())})
    assert res.status_code == 200, res.text
    csrf = res.json()["csrf_token"]
    assert web.post("/api/v1/watch/entries", headers={"X-CSRF-Token": csrf}, json={
        "kind": "plate", "subject": PLATE, "reason": "嫌疑车辆", "purpose": "case_investigation",
        "case_no": CASE, "scope": [BINJIANG], "days": 7}).status_code == 201
    cookie = "; ".join(f"{k}={v}" for k, v in web.cookies.items())
    listener = Listener(server.url, {"Cookie": cookie}).start()
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}])
    assert json.loads(listener.next("hit")["data"])["entry"]["subject"] == PLATE
    assert web.post("/api/v1/auth/sign-out", headers={"X-CSRF-Token": csrf}).status_code in (200, 204)
    assert json.loads(listener.next("end")["data"]) == {"reason": "signed_out"}
    web.close()


def test_a_reconnecting_stream_does_not_keep_an_unattended_session_alive(
        platform: Platform, server: Running) -> None:
    """The browser reopens the stream by itself: that is not the user's activity, so the idle clock runs on."""
    platform.settings.cookie_secure = False
    cred = platform.directory.add("bj_idle", display_name="idle", unit_code="360102", unit_name="滨江",
                                  roles=["investigator"], now_ms=now_ms(), password=PASSWORD)
    web = httpx.Client(base_url=server.url, timeout=BOUND)
    res = web.post("/api/v1/auth/sign-in", json={"username": "bj_idle", "password": PASSWORD,
                                                 "code": code_at(cred.totp_secret, time.time())})
    assert res.status_code == 200, res.text
    sessions = platform.metadata.tables["auth_session"]
    user = platform.directory.get("bj_idle")
    assert user is not None
    quiet_since = now_ms() - 20 * 60_000  # twenty minutes without the user doing anything

    def last_seen() -> int:
        with platform.engine.connect() as conn:
            return int(conn.execute(select(sessions.c.last_seen).where(sessions.c.user_id == user.id)).scalar_one())

    with platform.engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.user_id == user.id).values(last_seen=quiet_since))
    cookie = "; ".join(f"{k}={v}" for k, v in web.cookies.items())
    listener = Listener(server.url, {"Cookie": cookie}, {"max_s": 0.3}).start()
    assert json.loads(listener.next("end")["data"]) == {"reason": "lifetime"}  # it was let in
    assert last_seen() == quiet_since
    assert web.get("/api/v1/watch/hits").status_code == 200  # the user's own request is activity
    assert last_seen() > quiet_since
    web.close()
