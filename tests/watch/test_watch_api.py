"""The watch-list API: entries, hits through the policy (masked once a grant is gone), acknowledgement."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from watch_world import (  # registered by conftest.py
    BINJIANG,
    CASE,
    PASSWORD,
    PLATE,
    YUNZHOU,
    events,
    grant,
    hits,
    ingest,
    now_ms,
)

from lianfang.api.app import create_app
from lianfang.identity.directory import User
from lianfang.identity.totp import code_at
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform
from lianfang.policy.decision import ScopeKind

BODY = {"kind": "plate", "subject": "赣A·7Q777", "reason": "盗窃案嫌疑车辆", "purpose": "case_investigation",
        "case_no": CASE, "scope": [BINJIANG], "days": 30}


@pytest.fixture
def login(platform: Platform) -> Callable[..., TestClient]:
    """A signed-in client for a new account (password + TOTP), carrying the CSRF header."""

    def make(username: str, unit: str = "360102", role: str = "investigator") -> TestClient:
        cred = platform.directory.add(username, display_name=username, unit_code=unit, unit_name=unit,
                                      roles=[role], now_ms=now_ms(), password=PASSWORD)
        client = TestClient(create_app(platform), base_url="https://testserver")
        res = client.post("/api/v1/auth/sign-in", json={"username": username, "password": PASSWORD,
                                                        "code": code_at(cred.totp_secret, time.time())})
        assert res.status_code == 200, res.text
        client.headers["X-CSRF-Token"] = res.json()["csrf_token"]
        return client

    return make


def me(platform: Platform, username: str) -> User:
    found = platform.directory.get(username)
    assert found is not None
    return found


def test_an_entry_is_added_listed_and_removed(platform: Platform, login: Callable[..., TestClient]) -> None:
    client = login("bj_inv")
    res = client.post("/api/v1/watch/entries", json=BODY)
    assert res.status_code == 201, res.text
    entry = res.json()
    assert entry["subject"] == PLATE and entry["subject_key"] == PLATE and entry["kind"] == "plate"
    assert entry["reason"] == BODY["reason"] and entry["scope"] == [BINJIANG] and entry["status"] == "active"
    assert entry["live"] and entry["grant_ids"] == [] and entry["hits"] == 0 and entry["unseen"] == 0
    assert entry["expires_at"].endswith("+08:00") and entry["removed_at"] is None
    listed = client.get("/api/v1/watch/entries").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == entry["id"]
    assert client.get(f"/api/v1/watch/entries/{entry['id']}").json()["id"] == entry["id"]
    gone = client.delete(f"/api/v1/watch/entries/{entry['id']}")
    assert gone.status_code == 200 and gone.json()["status"] == "removed" and not gone.json()["live"]
    assert client.get("/api/v1/watch/entries").json()["total"] == 0
    assert client.get("/api/v1/watch/entries", params={"status": "all"}).json()["total"] == 1


def test_refusals_say_why(platform: Platform, login: Callable[..., TestClient]) -> None:
    client = login("bj_inv")
    res = client.post("/api/v1/watch/entries", json={**BODY, "scope": []})
    assert res.status_code == 422 and res.json()["detail"]["reason"] == "watch.scope_empty"
    res = client.post("/api/v1/watch/entries", json={**BODY, "case_no": ""})
    assert res.status_code == 422 and res.json()["detail"]["reason"] == "watch.case_number_missing"
    res = client.post("/api/v1/watch/entries", json={**BODY, "days": None})
    assert res.status_code == 422 and res.json()["detail"]["reason"] == "watch.expiry"
    res = client.post("/api/v1/watch/entries", json={**BODY, "owner_id": 99})  # no mass assignment
    assert res.status_code == 422
    res = client.post("/api/v1/watch/entries", json={**BODY, "scope": [BINJIANG, YUNZHOU]})
    assert res.status_code == 403
    detail = res.json()["detail"]
    assert detail["reason"] == "watch.needs_grant" and detail["cities"] == [YUNZHOU]
    assert detail["request_access"][0] | {"why": ""} == {
        "owner_city": YUNZHOU, "level": "sensitive", "scope": "vehicle", "keys": [PLATE],
        "purpose": "case_investigation", "case_no": CASE, "why": ""}


def test_an_expiry_date_is_read_in_the_platforms_zone(platform: Platform, login: Callable[..., TestClient]) -> None:
    client = login("bj_inv")
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 5 * 86400))
    res = client.post("/api/v1/watch/entries", json={**BODY, "days": None, "expires_at": day})
    assert res.status_code == 201, res.text
    assert res.json()["expires_at"].startswith(f"{day}T23:59:59")


def test_state_changes_need_the_csrf_header(platform: Platform, login: Callable[..., TestClient]) -> None:
    client = login("bj_inv")
    del client.headers["X-CSRF-Token"]
    assert client.post("/api/v1/watch/entries", json=BODY).status_code == 403


def test_hits_are_listed_in_full_then_masked_once_the_grant_is_revoked(
        platform: Platform, login: Callable[..., TestClient], ing: Ingestor, appr: User, tmp_path: Path) -> None:
    client = login("bj_inv")
    user = me(platform, "bj_inv")
    g = grant(platform, user, appr, YUNZHOU, ScopeKind.VEHICLE, [PLATE])
    res = client.post("/api/v1/watch/entries", json={**BODY, "scope": [BINJIANG, YUNZHOU]})
    assert res.status_code == 201 and res.json()["grant_ids"] == [g.id]
    ingest(ing, tmp_path, YUNZHOU, [{"plate": PLATE}])
    page = client.get("/api/v1/watch/hits").json()
    assert page["total"] == 1 and page["hidden"] == 0
    (hit,) = page["items"]
    assert hit["access"] == "allow" and hit["city_code"] == YUNZHOU and not hit["seen"]
    assert hit["entry"] == {"id": res.json()["id"], "kind": "plate", "subject": PLATE,
                            "purpose": "case_investigation", "case_no": CASE, "status": "active"}
    values = hit["sighting"]["values"]
    assert values["plate_no"] == PLATE and values["device_id"] and values["passed_at"]
    assert hit["sighting"]["grants"] == [g.id] and hit["detected_at"].endswith("+08:00") and "latency_ms" not in hit
    ev = events(platform, "data.watch_hit")[-1]
    assert ev["outcome"] == "allow" and ev["case_no"] == CASE and ev["grant_id"] == g.id and ev["result_count"] == 1
    assert ev["target"] == [f"watch:{hit['entry']['id']}", f"sighting:{hit['sighting']['id']}"]

    platform.approvals.revoke(appr, g.id, reason="", now_ms=now_ms())
    (masked,) = client.get("/api/v1/watch/hits").json()["items"]
    assert masked["access"] == "mask" and masked["sighting"]["values"] == {}
    assert "passed_at" in masked["sighting"]["withheld"] and "plate_no" in masked["sighting"]["withheld"]
    assert masked["sighting"]["request_access"]["owner_city"] == YUNZHOU
    assert events(platform, "data.watch_hit")[-1]["outcome"] == "mask"


def test_a_hit_on_a_record_raised_above_masked_hits_is_not_shown(
        platform: Platform, login: Callable[..., TestClient], ing: Ingestor, tmp_path: Path) -> None:
    client = login("bj_inv")
    assert client.post("/api/v1/watch/entries", json=BODY).status_code == 201
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}])
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE rec_sighting SET classification = 'top_secret'"))
    page = client.get("/api/v1/watch/hits").json()
    assert page["total"] == 1 and page["items"] == [] and page["hidden"] == 1
    ev = events(platform, "data.watch_hit")[-1]
    assert ev["outcome"] == "none" and ev["detail"]["hidden"] == 1 and ev["result_count"] == 0


def test_hits_are_acknowledged_and_counted_per_entry(
        platform: Platform, login: Callable[..., TestClient], ing: Ingestor, tmp_path: Path) -> None:
    client = login("bj_inv")
    entry = client.post("/api/v1/watch/entries", json=BODY).json()
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}, {"plate": PLATE}])
    first, second = hits(platform)
    assert client.post(f"/api/v1/watch/hits/{first['id']}/seen").json() == {"id": first["id"], "seen": True}
    unseen = client.get("/api/v1/watch/hits", params={"unseen": True}).json()
    assert [h["id"] for h in unseen["items"]] == [second["id"]]
    listed = client.get("/api/v1/watch/entries").json()["items"][0]
    assert (listed["hits"], listed["unseen"]) == (2, 1)
    by_entry = client.get("/api/v1/watch/hits", params={"entry_id": entry["id"], "limit": 1}).json()
    assert by_entry["total"] == 2 and len(by_entry["items"]) == 1 and by_entry["items"][0]["id"] == second["id"]


def test_nobody_sees_another_users_entries_or_hits(
        platform: Platform, login: Callable[..., TestClient], ing: Ingestor, tmp_path: Path) -> None:
    owner, other = login("bj_inv"), login("bj_inv2", unit="360103")
    entry = owner.post("/api/v1/watch/entries", json=BODY).json()
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}])
    (hit,) = hits(platform)
    assert other.get(f"/api/v1/watch/entries/{entry['id']}").status_code == 404
    assert other.delete(f"/api/v1/watch/entries/{entry['id']}").status_code == 404
    assert other.post(f"/api/v1/watch/hits/{hit['id']}/seen").status_code == 404
    assert other.get("/api/v1/watch/hits").json()["total"] == 0
    assert other.get("/api/v1/watch/entries").json()["total"] == 0


def test_tokens_with_data_read_may_use_the_api(platform: Platform, ing: Ingestor, tmp_path: Path) -> None:
    platform.directory.add("bj_cli", display_name="cli", unit_code="360102", unit_name="滨江", roles=["investigator"],
                           now_ms=now_ms(), password=PASSWORD)
    _, token = platform.tokens.create("bj_cli", "cli", {"data:read"}, days=1, now_ms=now_ms())
    client = TestClient(create_app(platform), base_url="https://testserver",
                        headers={"Authorization": f"Bearer {token}"})
    assert client.post("/api/v1/watch/entries", json=BODY).status_code == 201
    _, other = platform.tokens.create("bj_cli", "push", {"ingest:write"}, days=1, now_ms=now_ms())
    res = client.get("/api/v1/watch/entries", headers={"Authorization": f"Bearer {other}"})
    assert res.status_code == 401
