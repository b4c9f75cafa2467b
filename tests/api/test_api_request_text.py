"""What a request carries that cannot be stored or recorded: a clear 4xx that does not repeat it, never a 500."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.platform import Platform

CASE = "A3601002026110001"


@pytest.fixture
def client(platform: Platform) -> TestClient:
    now = int(time.time() * 1000)
    platform.directory.add("text_inv", display_name="t", unit_code="360102", unit_name="滨江",
                           roles=["investigator"], now_ms=now)
    _, token = platform.tokens.create("text_inv", "t", {"data:read"}, days=1, now_ms=now)
    c = TestClient(create_app(platform), base_url="https://testserver", raise_server_exceptions=False)
    c.headers["Authorization"] = f"Bearer {token}"
    return c


def _json(body: str) -> dict[str, object]:
    return {"content": body.encode(), "headers": {"content-type": "application/json"}}


@pytest.mark.parametrize("field", ["q", "case_no", "purpose_text"])
def test_a_lone_surrogate_is_a_422_that_does_not_echo_it(client: TestClient, field: str) -> None:
    """JSON's ``\\ud800`` decodes to text with no UTF-8 form. The default 422 repeated the value and could not
    encode itself: a 500. Now the answer names the field, and the value goes back to nobody."""
    body = {"q": "赣A12345", "purpose": "case_investigation", "case_no": CASE, "purpose_text": ""}
    raw = ", ".join(f'"{k}": "{v}"' if k != field else f'"{k}": "X9\\ud800"' for k, v in body.items())
    res = client.post("/api/v1/search", **_json("{" + raw + "}"))  # type: ignore[arg-type]
    assert res.status_code == 422, res.text
    assert res.json()["detail"][0]["loc"] == ["body", field]
    assert "X9" not in res.text and "input" not in res.json()["detail"][0]
    after = client.post("/api/v1/search", json={"q": "赣A12345", "purpose": "case_investigation", "case_no": CASE})
    assert after.status_code == 200


def test_invalid_requests_never_echo_what_was_typed(client: TestClient) -> None:
    """A citizen ID where a short field was expected: the error says what is wrong, not what was sent."""
    res = client.post("/api/v1/search", json={"q": "赣A12345", "purpose": "110105199003072316" * 3,
                                              "case_no": CASE})
    assert res.status_code == 422 and "110105199003072316" not in res.text
    assert res.json()["detail"][0]["loc"] == ["body", "purpose"]


@pytest.mark.parametrize("how", ["POST", "GET"])
def test_a_citizen_id_typed_as_the_case_number_is_refused_with_400(client: TestClient, platform: Platform,
                                                                  how: str) -> None:
    """The audit trail refuses personal data in clear, so the read is refused — with a 400 that says why
    (it was a 500), the number not repeated, and no alarm about the trail itself."""
    failures: list[BaseException] = []
    platform.audit.trail._on_failure = failures.append
    case_no = "110105199003072316"
    if how == "POST":
        res = client.post("/api/v1/search", json={"q": "赣A12345", "purpose": "case_investigation",
                                                  "case_no": case_no})
    else:
        res = client.get("/api/v1/trajectories/vehicle/赣A12345",
                         params={"purpose": "case_investigation", "case_no": case_no})
    assert res.status_code == 400, res.text
    assert "audit" in res.json()["detail"] and case_no not in res.text
    assert failures == []


@pytest.mark.parametrize("path", [
    "/api/v1/watch/entries/9223372036854775808",  # one past the largest 64-bit key
    "/api/v1/entities/person/99999999999999999999",
    "/api/v1/trajectories/person/9223372036854775808",
])
def test_an_id_no_key_can_hold_is_a_422(client: TestClient, path: str) -> None:
    """The drivers refuse to bind such a number (a 500 before the bound was declared)."""
    res = client.get(path, params={"purpose": "case_investigation", "case_no": CASE})
    assert res.status_code == 422, res.text
    assert res.json()["detail"][0]["type"] == "less_than_equal"


def test_the_largest_key_is_still_a_plain_404(client: TestClient) -> None:
    res = client.get("/api/v1/watch/entries/9223372036854775807")
    assert res.status_code == 404, res.text


@pytest.mark.parametrize("url", ["/api/v1/quarantine?status=%00", "/api/v1/audit/events?action=data.%00",
                                 "/api/v1/trajectories/vehicle/%E8%B5%A3A%0012345"])
def test_a_nul_character_in_the_path_or_query_is_a_400(client: TestClient, url: str) -> None:
    """PostgreSQL refuses NUL in text outright (a 500 before); no legitimate value holds one."""
    res = client.get(url)
    assert res.status_code == 400 and "NUL" in res.json()["detail"]
    assert res.headers["X-Content-Type-Options"] == "nosniff" and res.headers["Cache-Control"] == "no-store"


def test_a_sign_in_whose_name_holds_nul_is_a_401_on_every_store(platform: Platform) -> None:
    """No user name holds NUL: the caller is not signed in, on SQLite and on PostgreSQL (which refuses NUL
    in text outright: the look-up itself was a 500, then a 400, before the name was checked first)."""
    c = TestClient(create_app(platform), base_url="https://testserver", raise_server_exceptions=False)
    res = c.post("/api/v1/auth/sign-in", json={"username": "w\u0000x", "password": "p", "code": "000000"})
    assert res.status_code == 401, res.text


def test_text_the_store_refuses_is_a_400_that_does_not_repeat_it(platform: Platform) -> None:
    """Text PostgreSQL cannot hold (NUL) reaching a statement: the driver's DataError is a 400 saying the value
    cannot be stored (a 500 before), the text not repeated. Names, case numbers and the audit trail refuse NUL
    before any statement; this is the net under whatever path does not."""
    app = create_app(platform)

    @app.post("/api/v1/probe-text")
    def probe(body: dict[str, str]) -> dict[str, str]:
        with platform.engine.connect() as conn:
            return {"echo": str(conn.execute(text("SELECT :v"), {"v": body["v"]}).scalar())}

    c = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    res = c.post("/api/v1/probe-text", json={"v": "追查\u0000XQ7"})
    if platform.engine.dialect.name == "postgresql":
        assert res.status_code == 400 and "cannot be stored" in res.json()["detail"]
        assert "XQ7" not in res.text
    else:
        assert res.status_code == 200  # SQLite keeps NUL in text
