"""Signed-in web clients: real accounts signing in through the real form (password + TOTP, CSRF cookie).

``web_user("bj_inv", ["investigator"], "360100")`` creates the account and returns a
:class:`WebUser` whose client carries the session cookie, with ``csrf`` (the session's
token, read from the page as a browser would) and ``post(url, data)`` adding it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.identity.totp import code_at
from lianfang.platform import Platform

PASSWORD = "Test-Password-2026"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


@dataclass
class WebUser:
    client: TestClient
    username: str
    user_id: int
    csrf: str

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: str | None = None,
             **kw: Any) -> httpx.Response:
        body = {"csrf_token": self.csrf if csrf is None else csrf, **(data or {})}
        return self.client.post(url, data=body, **kw)


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    return create_app(platform)


def new_client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


WebUserFactory = Callable[..., WebUser]


@pytest.fixture
def web_user(platform: Platform, app: FastAPI) -> WebUserFactory:
    def make(username: str, roles: list[str], unit: str, *, display_name: str | None = None,
             unit_name: str | None = None) -> WebUser:
        cred = platform.directory.add(username, display_name=display_name or username, unit_code=unit,
                                      unit_name=unit_name or unit, roles=roles, now_ms=int(time.time() * 1000),
                                      password=PASSWORD)
        client = new_client(app)
        token = form_token(client.get("/sign-in").text)
        res = client.post("/sign-in", data={"username": username, "password": PASSWORD,
                                            "code": code_at(cred.totp_secret, time.time()), "csrf_token": token})
        assert res.status_code == 303, res.text
        home = client.get("/")
        assert home.status_code == 200
        user = platform.directory.get(username)
        assert user is not None
        return WebUser(client, username, user.id, form_token(home.text))

    return make


@pytest.fixture
def audit_actions(platform: Platform) -> Callable[..., list[tuple[str, str]]]:
    """(action, outcome) of every audit event so far (each is committed before its request answers)."""

    def read(user_id: int | None = None) -> list[tuple[str, str]]:
        q = "SELECT action, outcome FROM audit_event" + (" WHERE user_id = :u" if user_id else "") + " ORDER BY seq"
        with platform.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(text(q), {"u": user_id} if user_id else {})]

    return read
