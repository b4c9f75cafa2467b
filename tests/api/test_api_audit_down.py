"""Fail closed on every path: when the audit trail cannot be written, requests are refused with 503.

Data routes say so themselves; this covers what they do not catch — here the audit event of a
refused role (``authz.denied``) — which used to surface as a 500.
"""

from __future__ import annotations

import time

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
