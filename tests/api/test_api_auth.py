"""Authentication on the HTTP API: sessions, cookie flags, CSRF, API tokens, roles, city scoping."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.identity.totp import code_at
from lianfang.platform import Platform

SignIn = Callable[..., dict[str, object]]


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(create_app(platform), base_url="https://testserver")


PROTECTED = [
    ("GET", "/api/v1/standard"),
    ("GET", "/api/v1/records/person/1"),
    ("GET", "/api/v1/access/queue"),
    ("GET", "/api/v1/quarantine"),
    ("GET", "/api/v1/batches"),
    ("GET", "/api/v1/audit/events"),
    ("POST", "/api/v1/access/requests"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_everything_but_health_needs_sign_in(client: TestClient, method: str, path: str) -> None:
    res = client.request(method, path)
    assert res.status_code == 401
    assert res.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/health").status_code == 200


def test_sign_in_opens_a_session(client: TestClient, signer: SignIn) -> None:
    body = signer(client, "bj_inv", ["investigator"], "360100")
    assert body["user"]["roles"] == ["investigator"]  # type: ignore[index]
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["via"] == "session"


def test_cookie_flags(platform: Platform, client: TestClient) -> None:
    cred = platform.directory.add("bj_off", display_name="x", unit_code="360100", unit_name="x", roles=["officer"],
                                  now_ms=int(time.time() * 1000), password="Test-Password-2026")
    res = client.post("/api/v1/auth/sign-in", json={"username": "bj_off", "password": "Test-Password-2026",
                                                    "code": code_at(cred.totp_secret, time.time())})
    header = res.headers["set-cookie"].lower()
    assert "httponly" in header and "secure" in header and "samesite=strict" in header
    assert cred.password not in res.text


def test_wrong_code_is_401_with_the_generic_message(platform: Platform, client: TestClient) -> None:
    platform.directory.add("bj_off", display_name="x", unit_code="360100", unit_name="x", roles=["officer"],
                           now_ms=int(time.time() * 1000), password="Test-Password-2026")
    res = client.post("/api/v1/auth/sign-in", json={"username": "bj_off", "password": "Test-Password-2026",
                                                    "code": "000000"})
    assert res.status_code == 401 and "wrong user name, password or code" in res.json()["detail"]
    assert "lf_session" not in res.headers.get("set-cookie", "")


def test_state_changes_need_the_csrf_token(client: TestClient, signer: SignIn) -> None:
    signer(client, "bj_inv", ["investigator"], "360100")
    good = client.headers.pop("X-CSRF-Token")
    body = {"owner_city": "360200", "level": "sensitive", "scope": "records", "keys": ["person:1"],
            "purpose": "case_investigation", "case_no": "A1", "hours": 1}
    assert client.post("/api/v1/access/requests", json=body).status_code == 403
    assert client.post("/api/v1/access/requests", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/v1/access/requests", json=body, headers={"X-CSRF-Token": good}).status_code == 201


def test_sign_out_ends_the_session_on_the_server(client: TestClient, signer: SignIn) -> None:
    signer(client, "bj_inv", ["investigator"], "360100")
    cookie = client.cookies.get("lf_session")
    assert client.post("/api/v1/auth/sign-out").status_code == 200
    replay = TestClient(client.app, base_url="https://testserver", cookies={"lf_session": str(cookie)})
    assert replay.get("/api/v1/auth/me").status_code == 401  # the old cookie is dead on the server


def test_roles_fail_closed_and_refusals_are_audited(platform: Platform, client: TestClient, signer: SignIn) -> None:
    signer(client, "bj_off", ["officer"], "360100")
    assert client.get("/api/v1/audit/events").status_code == 403
    assert client.get("/api/v1/quarantine").status_code == 403
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT action, outcome, target FROM audit_event WHERE action = 'authz.denied'")).all()
    assert [(r[0], r[1]) for r in rows] == [("authz.denied", "denied")] * 2
    assert '"route:events"' in rows[0][2]


def test_auditor_reads_the_trail_but_no_records(platform: Platform, client: TestClient, signer: SignIn) -> None:
    signer(client, "sheng_audit", ["auditor"], "360000")
    events = client.get("/api/v1/audit/events").json()
    assert events["total"] >= 1 and events["items"][0]["action"] == "auth.sign_in"
    assert client.get("/api/v1/audit/verify").json()["ok"] is True
    assert client.get("/api/v1/audit/alarms").json() == {"items": []}
    res = client.post("/api/v1/audit/alarms/1/dispose", json={"status": "closed", "note": "x"})
    assert res.status_code == 422  # only confirmed or false_positive
    res = client.get("/api/v1/records/person/1", params={"purpose": "case_investigation", "case_no": "A1"})
    assert res.status_code in (403, 404)


def test_api_tokens_need_the_right_scope(platform: Platform, client: TestClient) -> None:
    now = int(time.time() * 1000)
    platform.directory.add("yz_kakou", display_name="卡口", unit_code="360200", unit_name="云州卡口",
                           roles=["steward"], now_ms=now, password="Test-Password-2026")
    _, reader = platform.tokens.create("yz_kakou", "read", {"data:read"}, days=1, now_ms=now)
    _, pusher = platform.tokens.create("yz_kakou", "push", {"ingest:write"}, days=1, now_ms=now)
    assert client.get("/api/v1/standard", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    assert client.get("/api/v1/standard", headers={"Authorization": f"Bearer {pusher}"}).status_code == 401
    assert client.get("/api/v1/quarantine", headers={"Authorization": f"Bearer {pusher}"}).status_code == 200
    # session-only endpoints refuse tokens
    assert client.get("/api/v1/access/queue", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    assert client.get("/api/v1/standard", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_a_city_steward_sees_only_their_city(platform: Platform, client: TestClient, signer: SignIn) -> None:
    signer(client, "bj_steward", ["steward"], "360100")
    assert client.get("/api/v1/quarantine", params={"city": "360200"}).status_code == 403
    assert client.get("/api/v1/quarantine").status_code == 200
    res = client.post("/api/v1/ingest", data={"mapping": "demo.yunzhou.yz-zhjw"},
                      files={"files": ("x.csv", b"a,b\n1,2\n")})
    assert res.status_code == 403 and "you steward 360100" in res.text


def test_a_missing_record_is_404_before_anything_else(client: TestClient, signer: SignIn) -> None:
    signer(client, "bj_inv", ["investigator"], "360100")
    assert client.get("/api/v1/records/person/1").status_code == 404
    assert client.get("/api/v1/records/nosuch/1").status_code == 404
