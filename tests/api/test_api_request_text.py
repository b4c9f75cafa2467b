"""What a request carries that cannot be stored or recorded: a clear 4xx that does not repeat it, never a 500."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

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
