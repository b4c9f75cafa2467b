"""The web sign-in: a Chinese form with a CSRF token, password + TOTP, the home page, English on request."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.identity.totp import code_at
from lianfang.platform import Platform

PASSWORD = "Test-Password-2026"


@pytest.fixture
def browser(platform: Platform) -> TestClient:
    return TestClient(create_app(platform), base_url="https://testserver", follow_redirects=False)


@pytest.fixture
def secret(platform: Platform) -> str:
    return platform.directory.add("bj_inv", display_name="李侦查", unit_code="360100", unit_name="滨江市公安局",
                                  roles=["investigator"], now_ms=int(time.time() * 1000), password=PASSWORD).totp_secret


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_home_sends_strangers_to_sign_in(browser: TestClient) -> None:
    res = browser.get("/")
    assert res.status_code == 303 and res.headers["location"] == "/sign-in"


def test_sign_in_page_is_chinese_by_default_and_english_on_request(browser: TestClient) -> None:
    page = browser.get("/sign-in")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text and "动态口令" in page.text
    assert page.headers["x-frame-options"] == "DENY" and "default-src 'self'" in page.headers["content-security-policy"]
    english = browser.get("/sign-in", params={"lang": "en"})
    assert "One-time code" in english.text and 'lang="en"' in english.text
    assert "One-time code" in browser.get("/sign-in").text  # remembered


def test_sign_in_needs_the_form_token(browser: TestClient, secret: str) -> None:
    browser.get("/sign-in")
    res = browser.post("/sign-in", data={"username": "bj_inv", "password": PASSWORD,
                                         "code": code_at(secret, time.time()), "csrf_token": "forged"})
    assert res.status_code == 403 and "表单已过期" in res.text
    assert "lf_session" not in res.headers.get("set-cookie", "")


def test_wrong_code_shows_the_generic_error(browser: TestClient, secret: str) -> None:
    token = form_token(browser.get("/sign-in").text)
    res = browser.post("/sign-in", data={"username": "bj_inv", "password": PASSWORD, "code": "000000",
                                         "csrf_token": token})
    assert res.status_code == 401 and "用户名、密码或动态口令错误" in res.text
    assert PASSWORD not in res.text


def test_sign_in_home_and_sign_out(browser: TestClient, secret: str, platform: Platform) -> None:
    token = form_token(browser.get("/sign-in").text)
    res = browser.post("/sign-in", data={"username": "bj_inv", "password": PASSWORD,
                                         "code": code_at(secret, time.time()), "csrf_token": token})
    assert res.status_code == 303 and res.headers["location"] == "/"
    cookie = res.headers["set-cookie"].lower()
    assert "lf_session=" in cookie and "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    home = browser.get("/")
    assert home.status_code == 200 and "欢迎，李侦查" in home.text and "滨江市公安局" in home.text
    assert "侦查员 investigator" in home.text and home.headers["cache-control"] == "no-store"
    session_token = form_token(home.text)
    assert browser.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    out = browser.post("/sign-out", data={"csrf_token": session_token})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert browser.get("/").status_code == 303
    with platform.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_event ORDER BY seq"))]
    assert actions == ["auth.sign_in", "auth.sign_out"]  # the web and the API share sign-in and its trail


def test_nothing_is_fetched_from_the_internet(browser: TestClient) -> None:
    """The API explorer and the pages use vendored assets only (the network is closed in service)."""
    docs = browser.get("/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    for page in (docs.text, browser.get("/sign-in").text):
        assert not re.search(r"(src|href)=[\"']https?://", page), "an external asset"
    asset = browser.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert browser.get("/redoc").status_code == 404
