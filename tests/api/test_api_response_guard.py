"""Every answer carries the security headers; the access log names the path, never the query string."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from lianfang.api.app import create_app
from lianfang.platform import Platform


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(create_app(platform))


def test_api_answers_and_pages_carry_the_security_headers(client: TestClient) -> None:
    for path in ("/health", "/api/v1/standard", "/api/v1/search?q=x", "/sign-in", "/no-such-page"):
        res = client.get(path)
        h = res.headers
        assert h["x-content-type-options"] == "nosniff", path
        assert h["x-frame-options"] == "DENY", path
        assert h["referrer-policy"] == "no-referrer", path
        assert h["content-security-policy"] == "default-src 'self'; frame-ancestors 'none'", path
        assert h["cache-control"] == "no-store", path  # answers may hold personal data: never cached
        assert len(res.headers.get_list("cache-control")) == 1


def test_static_files_may_be_cached_and_the_api_explorer_may_run_its_script(client: TestClient) -> None:
    static = client.get("/static/vendor/htmx/htmx.min.js")
    assert static.status_code == 200
    assert static.headers.get("cache-control") != "no-store"
    assert static.headers["x-content-type-options"] == "nosniff"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers
    assert docs.headers["cache-control"] == "no-store"


def test_the_access_log_has_the_path_and_status_but_not_the_query(client: TestClient,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="lianfang.access"):
        client.get("/health?citizen_id=11010519491231002X")
        client.get("/no-such-page")
    lines = [r.getMessage() for r in caplog.records if r.name == "lianfang.access"]
    assert any(line.startswith("GET /health 200 ") for line in lines), lines
    assert any(line.startswith("GET /no-such-page 404 ") for line in lines), lines
    assert not any("11010519491231002X" in line or "citizen_id" in line for line in lines)
