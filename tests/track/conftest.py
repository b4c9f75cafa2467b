"""Fixtures for the trajectory tests; the seeded province lives in ``province.py``.

``province.py`` is registered as the module ``track_province``: with
``--import-mode=importlib`` test files cannot import a sibling module by name, but
they can import one already in ``sys.modules``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

_spec = importlib.util.spec_from_file_location("track_province", Path(__file__).with_name("province.py"))
assert _spec is not None and _spec.loader is not None
province = importlib.util.module_from_spec(_spec)
sys.modules["track_province"] = province
_spec.loader.exec_module(province)

from lianfang.api.app import create_app  # noqa: E402
from lianfang.identity.totp import code_at  # noqa: E402
from lianfang.platform import Platform  # noqa: E402


@pytest.fixture
def world(platform: Platform, tmp_path: Path) -> Any:
    return province.seed(platform, tmp_path)


@pytest.fixture
def login(platform: Platform) -> Callable[..., TestClient]:
    """A signed-in API client for a new account (password + TOTP, as a user signs in)."""

    def make(username: str, unit: str = province.BINJIANG, role: str = "investigator") -> TestClient:
        cred = platform.directory.add(username, display_name=username, unit_code=unit, unit_name=unit,
                                      roles=[role], now_ms=int(time.time() * 1000), password=province.PASSWORD)
        client = TestClient(create_app(platform), base_url="https://testserver")
        res = client.post("/api/v1/auth/sign-in", json={"username": username, "password": province.PASSWORD,
                                                        "code": code_at(cred.totp_secret, time.time())})
        assert res.status_code == 200, res.text
        client.headers["X-CSRF-Token"] = res.json()["csrf_token"]
        return client

    return make


@pytest.fixture
def event(platform: Platform) -> Callable[[], dict[str, object]]:
    """The latest audit event."""
    return lambda: province.last_event(platform)
