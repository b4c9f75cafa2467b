"""Signed-in API clients: real accounts, real password + TOTP sign-in, the session cookie and CSRF token."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from lianfang.identity.totp import code_at
from lianfang.platform import Platform

PASSWORD = "Test-Password-2026"


def sign_in(client: TestClient, platform: Platform, username: str, roles: list[str], unit: str,
            **kw: object) -> dict[str, object]:
    """Create the account, sign in through the API; the client then carries cookie and CSRF header."""
    cred = platform.directory.add(
        username, display_name=username, unit_code=unit, unit_name=unit, roles=roles,
        now_ms=int(time.time() * 1000), password=PASSWORD, **kw,  # type: ignore[arg-type]
    )
    res = client.post(
        "/api/v1/auth/sign-in",
        json={"username": username, "password": PASSWORD, "code": code_at(cred.totp_secret, time.time())},
    )
    assert res.status_code == 200, res.text
    body: dict[str, object] = res.json()
    client.headers["X-CSRF-Token"] = str(body["csrf_token"])
    return body


SignIn = Callable[..., dict[str, object]]


@pytest.fixture
def signer(platform: Platform) -> SignIn:
    def do(client: TestClient, username: str, roles: list[str], unit: str, **kw: object) -> dict[str, object]:
        return sign_in(client, platform, username, roles, unit, **kw)

    return do
