"""The HTTP API: health, readiness, the standard, pushed ingestion, batches and quarantine."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy import text as sa_text

from lianfang.api.app import create_app
from lianfang.api.routes.ingestion import safe_upload_name
from lianfang.ingest.lease import current_owner
from lianfang.platform import Platform
from lianfang.store.schema import build_metadata

MAPPING = """
mapping: test.api.rk
version: 1
city: "360100"
system: API-RK
source: {format: csv, encoding: utf-8}
formats: ["%Y%m%d"]
feeds:
  - category: person
    match: "rk*.csv"
    fields: {citizen_id: GMSFHM, name: XM, birth_date: CSRQ, phone: LXDH}
"""

CSV = (
    "GMSFHM,XM,CSRQ,LXDH\n"
    "11010519491231002X,张三,19491231,13812345678\n"
    "11010519491231002X,张三,19491231,13812345678\n"
    "110105194912310021,李四,19491231,13812345678\n"
)


@pytest.fixture
def client(platform: Platform, tmp_path: Path, signer: Callable[..., object]) -> TestClient:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    plat = Platform(platform.settings, extra_mapping_paths=[path])
    client = TestClient(create_app(plat), base_url="https://testserver")
    signer(client, "sheng_steward", ["steward"], "360000")
    return client


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "keys": "ok"}


def test_standard_endpoint_lists_every_category(client: TestClient) -> None:
    body = client.get("/api/v1/standard").json()
    names = {c["name"] for c in body["categories"]}
    assert names == {
        "person",
        "vehicle",
        "sighting",
        "case",
        "alert",
        "help_request",
        "jurisdiction",
        "device",
        "unit",
    }
    person = client.get("/api/v1/standard/person", params={"lang": "en"}).json()
    assert any(f["name"] == "citizen_id" for f in person["fields"])
    assert client.get("/api/v1/standard/nope").status_code == 404


def test_push_ingest_then_batch_and_quarantine(client: TestClient, platform: Platform) -> None:
    res = client.post(
        "/api/v1/ingest",
        data={"mapping": "test.api.rk"},
        files={"files": ("rk_push.csv", CSV.encode(), "text/csv")},
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["read"], body["accepted"], body["duplicates"], body["quarantined"]) == (3, 1, 1, 1)
    batch = client.get(f"/api/v1/batches/{body['batch_id']}").json()
    assert batch["files"][0]["name"] == "rk_push.csv" and batch["status"] == "done"
    listing = client.get("/api/v1/quarantine").json()
    assert listing["total"] == 1
    item = listing["items"][0]
    assert item["reasons"][0]["code"] == "citizen_id.check_digit"
    detail = client.get(f"/api/v1/quarantine/{item['id']}").json()
    text = json.dumps(detail, ensure_ascii=False)
    assert "110105194912310021" not in text and "李四" not in text
    retry = client.post("/api/v1/quarantine/retry", json={"ids": [item["id"]]})
    assert retry.status_code == 200 and retry.json()["still_rejected"] == 1
    # every step is in the audit trail, and nothing personal is
    with platform.engine.connect() as conn:
        rows = conn.execute(sa_text("SELECT action, outcome, target, detail FROM audit_event ORDER BY seq")).all()
    assert [r[0] for r in rows] == ["auth.sign_in", "ingest.push", "quarantine.view", "quarantine.retry"]
    assert f'"batch:{body["batch_id"]}"' in rows[1][2] and json.loads(rows[1][3])["quarantined"] == 1
    trail = " ".join(str(r) for r in rows)
    assert "110105194912310021" not in trail and "李四" not in trail and "张三" not in trail


def test_push_with_unknown_mapping_is_a_clear_422(client: TestClient) -> None:
    res = client.post(
        "/api/v1/ingest",
        data={"mapping": "nope"},
        files={"files": ("rk.csv", CSV.encode(), "text/csv")},
    )
    assert res.status_code == 422 and "unknown mapping" in res.text


def test_page_size_is_capped(client: TestClient, platform: Platform) -> None:
    body = client.get("/api/v1/batches", params={"limit": 100_000}).json()
    assert body["limit"] == platform.settings.max_page_size


def test_openapi_is_served(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/ready", "/api/v1/standard", "/api/v1/ingest", "/api/v1/quarantine"} <= set(
        paths
    )


@pytest.mark.parametrize(
    "name,expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/abs/path/rk.csv", "rk.csv"),
        (".hidden", "hidden"),
        ("a\x00b.csv", "a_b.csv"),
        ("", "upload"),
    ],
)
def test_pushed_names_cannot_escape(name: str, expected: str) -> None:
    assert safe_upload_name(name) == expected


def test_times_are_iso_8601_in_shanghai(client: TestClient) -> None:
    client.post(
        "/api/v1/ingest",
        data={"mapping": "test.api.rk"},
        files={"files": ("rk_push.csv", CSV.encode(), "text/csv")},
    )
    batch = client.get("/api/v1/batches").json()["items"][0]
    assert batch["started_at"].endswith("+08:00")
    item = client.get("/api/v1/quarantine").json()["items"][0]
    assert item["created_at"].endswith("+08:00")


def test_a_batch_whose_run_died_is_listed_as_interrupted(client: TestClient, platform: Platform) -> None:
    """A run killed mid-file leaves its batch running; a steward listing batches sees it interrupted."""
    push = client.post(
        "/api/v1/ingest", data={"mapping": "test.api.rk"}, files={"files": ("rk_push.csv", CSV.encode(), "text/csv")}
    ).json()
    other = CSV.replace("张三", "王五")
    live = client.post(
        "/api/v1/ingest", data={"mapping": "test.api.rk"}, files={"files": ("rk_live.csv", other.encode(), "text/csv")}
    ).json()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    host = current_owner().rpartition(":")[0]
    tables = build_metadata(platform.standard).tables
    b, f = tables["ingest_batch"], tables["ingest_file"]
    fresh = int(time.time() * 1000)
    with platform.engine.begin() as conn:  # what kill -9 mid-file leaves behind, and a run still going
        for batch_id, owner in ((push["batch_id"], f"{host}:{ended.pid}"), (live["batch_id"], current_owner())):
            conn.execute(update(b).where(b.c.id == batch_id).values(
                status="running", finished_at=None, owner=owner, heartbeat_at=fresh))
            conn.execute(update(f).where(f.c.batch_id == batch_id).values(
                status="running", finished_at=None, owner=owner, heartbeat_at=fresh))

    items = {i["id"]: i for i in client.get("/api/v1/batches").json()["items"]}
    assert items[push["batch_id"]]["status"] == "interrupted"
    assert items[push["batch_id"]]["finished_at"].endswith("+08:00")
    assert (items[live["batch_id"]]["status"], items[live["batch_id"]]["finished_at"]) == ("running", None)
    detail = client.get(f"/api/v1/batches/{push['batch_id']}").json()
    assert detail["status"] == "interrupted"
    assert detail["files"][0]["status"] == "failed" and "resume" in detail["files"][0]["error"]
    with platform.engine.connect() as conn:  # stored, not only shown
        assert conn.execute(select(b.c.status).where(b.c.id == push["batch_id"])).scalar_one() == "interrupted"
