"""Signed-in API clients: real accounts, real password + TOTP sign-in, the session cookie and CSRF token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


FreshProcess = Callable[..., dict[str, object]]


@pytest.fixture
def fresh_process(platform: Platform) -> FreshProcess:
    """Runs ``python -c code *args`` on the platform's store and key, ``env`` added to the environment;
    answers the JSON object its last line prints. For what is process-wide (the collector, a global
    tracer) and must not touch the test process."""

    def run(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
        s = platform.settings
        full = {**os.environ, "LIANFANG_VAR_DIR": str(s.var_dir), "LIANFANG_DATABASE_URL": s.resolved_database_url(),
                "LIANFANG_KEY_FILE": str(s.resolved_key_file()), **(env or {})}
        out = subprocess.run([sys.executable, "-c", code, *args], env=full, capture_output=True, text=True,
                             timeout=120, check=True)
        seen: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
        return seen

    return run
