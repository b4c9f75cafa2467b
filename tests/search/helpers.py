"""Helpers shared by the search tests: users with API tokens, the demo's suspect, the newest audit event."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.platform import Platform

BINJIANG, YUNZHOU = "360100", "360200"
PLATE = "赣A7Q777"
CASE = "A3601002026110001"
_seq = itertools.count(1)


def story_suspect_id(tiny_demo: Any) -> str:
    manifest = json.loads((tiny_demo / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest["story"]["suspect"]["citizen_id"])


def user_client(plat: Platform, roles: list[str], unit: str) -> tuple[TestClient, str]:
    """A new user of ``unit`` with ``roles`` and a client carrying their API token (scope data:read)."""
    name = f"u{next(_seq)}_{roles[0][:4]}_{unit}_{time.time_ns() % 10**6}"
    now = int(time.time() * 1000)
    plat.directory.add(name, display_name=name, unit_code=unit, unit_name=unit, roles=roles, now_ms=now,
                       password="Test-Password-2026")
    _, token = plat.tokens.create(name, "test", {"data:read"}, days=1, now_ms=now)
    client = TestClient(create_app(plat), base_url="https://testserver")
    client.headers["Authorization"] = f"Bearer {token}"
    return client, name


def last_event(plat: Platform) -> Any:
    with plat.engine.connect() as conn:
        return conn.execute(text("SELECT * FROM audit_event ORDER BY seq DESC")).first()
