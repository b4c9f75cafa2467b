"""Fail closed on every path: when the audit trail cannot be written, requests are refused with 503.

Data routes say so themselves; this covers what they do not catch — here the audit event of a
refused role (``authz.denied``) — which used to surface as a 500.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.platform import Platform


def test_a_request_whose_audit_event_cannot_be_written_is_refused_with_503(platform: Platform) -> None:
    now = int(time.time() * 1000)
    platform.directory.add("down_officer", display_name="d", unit_code="360102", unit_name="滨江",
                           roles=["officer"], now_ms=now, password="Test-Password-2026")
    _, token = platform.tokens.create("down_officer", "t", {"data:read", "audit:read"}, days=1, now_ms=now)
    client = TestClient(create_app(platform), base_url="https://testserver", raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    assert client.get("/api/v1/audit/alarms").status_code == 403  # an officer is no auditor: refused, audited
    with platform.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event RENAME TO audit_event_away"))
    try:
        res = client.get("/api/v1/audit/alarms")
    finally:
        with platform.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_event_away RENAME TO audit_event"))
    assert res.status_code == 503 and "audit trail is unavailable" in res.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/search", {"q": "赣A12345", "purpose": "case_investigation", "case_no": "A3601002026110001"}),
    ("GET", "/api/v1/search?q=赣A12345&purpose=case_investigation&case_no=A3601002026110001", None),
    ("GET", "/api/v1/entities/person/1?purpose=case_investigation&case_no=A3601002026110001", None),
    ("GET", "/api/v1/trajectories/vehicle/赣A12345?purpose=case_investigation&case_no=A3601002026110001", None),
    ("GET", "/api/v1/trajectories/person/1?purpose=case_investigation&case_no=A3601002026110001", None),
])
def test_reads_served_on_the_event_loop_fail_closed_too(platform: Platform, method: str, path: str,
                                                        body: dict[str, str] | None) -> None:
    """These routes hand their audit event over without blocking and await it before answering: a trail
    that cannot be written still turns the answer into a 503, whatever the read itself found."""
    now = int(time.time() * 1000)
    platform.directory.add("loop_inv", display_name="l", unit_code="360102", unit_name="滨江",
                           roles=["investigator"], now_ms=now)
    _, token = platform.tokens.create("loop_inv", "t", {"data:read"}, days=1, now_ms=now)
    client = TestClient(create_app(platform), base_url="https://testserver", raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    first = client.request(method, path, json=body)
    assert first.status_code in (200, 404), first.text
    with platform.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event RENAME TO audit_event_away"))
    try:
        res = client.request(method, path, json=body)
    finally:
        with platform.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_event_away RENAME TO audit_event"))
    assert res.status_code == 503 and "audit trail is unavailable" in res.json()["detail"], res.text
