"""One policy behind every path: no endpoint hands out what the policy withholds.

云州 (360200) owns a person at each classification level, a vehicle and sightings
matched to the sensitive one, a case naming them, and a quarantined record. Users of
滨江 (360100) in every role that reads data — none holding a grant — then call
**every operation in the OpenAPI schema**: each GET with every seeded path value,
each POST that returns data with the seeded queries. No answer may contain any of
云州's protected values (citizen IDs, names, phone numbers, addresses) in clear:
masked hits (``360203********0015``, ``欧*``) are all they get.

An operation the test does not know fails it: a new endpoint must say here how it is
probed, or why it returns no record data.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.ingest.mapping import load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform

YUNZHOU = "360200"
CASE = "A3602002026110099"
PLATE = "赣B9Z999"
LEVELS = ("public", "internal", "sensitive", "top_secret")
PEOPLE = [  # citizen ID, name, mobile, household address — one per level
    ("360203198001010015", "欧阳青松", "13700000011", "云州市青松路1号"),
    ("360203198102020028", "司马秋月", "13700000026", "云州市秋月街2号"),
    ("360203198203030030", "上官明远", "13700000031", "云州市明远巷3号"),
    ("360203198304040043", "诸葛清泉", "13700000047", "云州市清泉里4号"),
]
QUARANTINED_ID = "360203198505050053"  # in a rejected record: only 云州's stewards may read it

MAPPING = f"""
mapping: test.leak.yunzhou
version: 1
city: "{YUNZHOU}"
system: LEAK
source: {{format: jsonl, encoding: utf-8}}
formats: ["%Y-%m-%d %H:%M:%S"]
feeds:
  - category: person
    match: "persons*.jsonl"
    fields: {{citizen_id: id, name: name, phone: mobile, household_address: address}}
  - category: vehicle
    match: "vehicles*.jsonl"
    fields: {{plate_no: plate, plate_type: {{const: "02"}}, owner_citizen_id: owner, owner_name: owner_name,
              owner_phone: owner_mobile}}
  - category: device
    match: "devices*.jsonl"
    fields: {{device_id: id, name: name, device_kind: {{const: checkpoint}}, longitude: lon, latitude: lat}}
  - category: sighting
    match: "sightings*.jsonl"
    fields: {{kind: {{const: vehicle}}, device_id: device, passed_at: at, plate_no: plate,
              matched_citizen_id: matched}}
  - category: case
    match: "cases*.jsonl"
    fields: {{case_no: number, category: {{const: "0101"}}, title: title, occurred_at: at,
              suspect_citizen_id: suspect, suspect_plate_no: plate, summary: summary}}
"""

DEVICE = "36020200001210000001"


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def seed(plat: Platform, folder: Path) -> dict[str, Any]:
    (folder / "leak.yaml").write_text(MAPPING, encoding="utf-8")
    mapping = load_mapping(folder / "leak.yaml", plat.standard)
    sensitive = PEOPLE[2]
    files = [
        _jsonl(folder / "persons_1.jsonl",
               [{"id": i, "name": n, "mobile": m, "address": a} for i, n, m, a in PEOPLE]
               + [{"id": QUARANTINED_ID, "name": "慕容", "mobile": "12", "address": "x"}]),  # bad phone
        _jsonl(folder / "vehicles_1.jsonl", [{"plate": PLATE, "owner": sensitive[0], "owner_name": sensitive[1],
                                              "owner_mobile": sensitive[2]}]),
        _jsonl(folder / "devices_1.jsonl", [{"id": DEVICE, "name": "云州测试卡口", "lon": 115.1, "lat": 28.1}]),
        _jsonl(folder / "sightings_1.jsonl", [
            {"device": DEVICE, "at": f"2026-11-2{d} 10:0{d}:00", "plate": PLATE, "matched": sensitive[0]}
            for d in range(1, 5)]),
        _jsonl(folder / "cases_1.jsonl", [{"number": CASE, "title": "测试案件", "at": "2026-11-20 09:00:00",
                                           "suspect": sensitive[0], "plate": PLATE,
                                           "summary": f"嫌疑人{sensitive[1]}"}]),
    ]
    ing = Ingestor(engine=plat.engine, standard=plat.standard, keyring=plat.keyring, settings=plat.settings,
                   mappings=[mapping])
    result = ing.ingest(files, mapping=mapping)
    assert result.total("quarantined") == 1, result
    ids: dict[str, list[int]] = {}
    with plat.engine.begin() as conn:
        for cat in ("person", "vehicle", "device", "sighting", "case"):
            ids[cat] = [int(r[0]) for r in conn.execute(text(f"SELECT id FROM rec_{cat} ORDER BY id"))]
        for rid, level in zip(ids["person"], LEVELS, strict=True):
            conn.execute(text("UPDATE rec_person SET classification = :l WHERE id = :i"), {"l": level, "i": rid})
        quarantined = [int(r[0]) for r in conn.execute(text("SELECT id FROM quarantine"))]
    return {"ids": ids, "quarantine": quarantined}


SENTINELS = [v for person in PEOPLE for v in person] + [QUARANTINED_ID]
ROLES = ["officer", "investigator", "dispatcher", "city_approver", "steward", "partner"]

# Path parameters the test knows how to fill: name -> values (filled from the seed).
PATH_VALUES = {"category", "record_id", "plate", "item_id", "batch_id", "request_id", "grant_id", "alarm_id",
               "entry_id", "hit_id"}
# Operations that change state and answer only with their own object (no record values), or that
# take no data at all. Each says why it is not probed for leaks.
NOT_DATA = {
    ("POST", "/api/v1/auth/sign-in"): "answers with the caller's own account",
    ("POST", "/api/v1/auth/sign-out"): "answers nothing",
    ("POST", "/api/v1/ingest"): "stewards push files; answers with counts",
    ("POST", "/api/v1/quarantine/retry"): "answers with counts (items are probed by GET)",
    ("POST", "/api/v1/access/requests"): "answers with the request (scope keys are IDs or digests)",
    ("POST", "/api/v1/access/requests/{request_id}/approve"): "answers with the grant",
    ("POST", "/api/v1/access/requests/{request_id}/reject"): "answers with the request",
    ("POST", "/api/v1/access/requests/{request_id}/withdraw"): "answers with the request",
    ("POST", "/api/v1/access/grants/{grant_id}/revoke"): "answers with the grant",
    ("POST", "/api/v1/audit/alarms/{alarm_id}/dispose"): "answers with the alarm (evidence has IDs only)",
    ("POST", "/api/v1/watch/entries"): "answers with the caller's own entry (a plate, or a person's masked ID)",
    ("DELETE", "/api/v1/watch/entries/{entry_id}"): "answers with the caller's own entry",
    ("POST", "/api/v1/watch/hits/{hit_id}/seen"): "answers with the hit's ID",
    ("POST", "/VIID/MotorVehicles"): "checkpoint pushes; answers with a status per pushed object (its own ID)",
}


def _probe_posts(client: TestClient) -> list[tuple[str, Any]]:
    """POST operations that return data: the seeded values as queries."""
    out = []
    for cid, name, mobile, _ in PEOPLE:
        for q in (cid, name, mobile, f"{name} 云州"):
            for purpose in ({"purpose": "case_investigation", "case_no": CASE}, {"purpose": "identity_check"}):
                out.append((f"POST /api/v1/search {purpose['purpose']}",
                            client.post("/api/v1/search", json={"q": q, **purpose})))
    out.append(("POST /api/v1/search plate", client.post(
        "/api/v1/search", json={"q": PLATE, "purpose": "case_investigation", "case_no": CASE})))
    for q, category in [(PEOPLE[i][0], "person") for i in range(4)] + [
            (PEOPLE[1][1], "person"), (PEOPLE[2][2], "person"), (PEOPLE[2][0], "vehicle"), (PEOPLE[2][0], "case"),
            (PLATE, "vehicle"), (PLATE, "sighting"), (PLATE, "case")]:
        for purpose in ({"purpose": "case_investigation", "case_no": CASE}, {"purpose": "identity_check"}):
            out.append((f"POST /api/v1/search/export {category} {purpose['purpose']}", client.post(
                "/api/v1/search/export", json={"q": q, "category": category, **purpose})))
    return out


POST_PROBES = {("POST", "/api/v1/search"), ("POST", "/api/v1/search/export")}


def _fill(path: str, seeded: dict[str, Any]) -> list[str]:
    """Every concrete path for a template, from the seeded values."""
    names = re.findall(r"{(\w+)}", path)
    unknown = [n for n in names if n not in PATH_VALUES]
    assert not unknown, f"{path}: the leak test does not know how to fill {unknown}; add it to PATH_VALUES"
    if not names:
        return [path]
    if "category" in names:
        return [path.replace("{category}", cat).replace("{record_id}", str(rid))
                for cat, rids in seeded["ids"].items() for rid in rids]
    values = {
        "record_id": [str(r) for r in seeded["ids"]["person"]],
        "plate": [PLATE],
        "item_id": [str(q) for q in seeded["quarantine"]],
        "batch_id": ["1"],
        "request_id": ["1"],
        "grant_id": ["1"],
        "alarm_id": ["1"],
        "entry_id": [str(e) for e in seeded.get("entries", [1])],
        "hit_id": [str(h) for h in seeded.get("hits", [1])],
    }
    (name,) = names
    return [path.replace(f"{{{name}}}", v) for v in values[name]]


def _client(plat: Platform, role: str, n: int) -> TestClient:
    name = f"leak_{role}_{n}"
    now = int(time.time() * 1000)
    plat.directory.add(name, display_name=name, unit_code="360102", unit_name="滨江", roles=[role], now_ms=now,
                       password="Test-Password-2026")
    _, token = plat.tokens.create(name, "leak", {"data:read", "audit:read", "ingest:write"}, days=1, now_ms=now)
    client = TestClient(create_app(plat), base_url="https://testserver")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def watched_then_revoked(plat: Platform, folder: Path, seeded: dict[str, Any]) -> TestClient:
    """A 滨江 investigator watches the plate in 云州 under a grant that is then revoked; a new 云州
    sighting matched to the sensitive person becomes a hit that may only be delivered masked."""
    from lianfang.policy.decision import Purpose, ScopeKind
    from lianfang.standard.levels import Level

    watcher = _client(plat, "investigator", 99)
    approver = _client(plat, "city_approver", 98)
    del approver
    user, appr = plat.directory.get("leak_investigator_99"), plat.directory.get("leak_city_approver_98")
    assert user is not None and appr is not None
    now = int(time.time() * 1000)
    req = plat.approvals.request(user, owner_city=YUNZHOU, level=Level.SENSITIVE, scope=ScopeKind.VEHICLE,
                                 keys=[PLATE], purpose=Purpose("case_investigation", "", CASE), hours=4, now_ms=now)
    grant = plat.approvals.approve(appr, req.id, reason="watch", now_ms=now)
    res = watcher.post("/api/v1/watch/entries", json={
        "kind": "plate", "subject": PLATE, "reason": "盗窃系列案", "purpose": "case_investigation",
        "case_no": CASE, "scope": [YUNZHOU], "days": 7})
    assert res.status_code == 201, res.text
    plat.approvals.revoke(appr, grant.id, reason="case closed", now_ms=now + 1)
    mapping = load_mapping(folder / "leak.yaml", plat.standard)
    ing = Ingestor(engine=plat.engine, standard=plat.standard, keyring=plat.keyring, settings=plat.settings,
                   mappings=[mapping], on_stored=plat.watch.matcher)
    more = _jsonl(folder / "sightings_2.jsonl", [{"device": DEVICE, "at": "2026-11-25 08:00:00", "plate": PLATE,
                                                  "matched": PEOPLE[2][0]}])
    assert ing.ingest([more], mapping=mapping).total("accepted") == 1
    hits = watcher.get("/api/v1/watch/hits").json()
    assert hits["total"] == 1 and hits["items"][0]["access"] == "mask"
    seeded["entries"] = [res.json()["id"]]
    seeded["hits"] = [hits["items"][0]["id"]]
    return watcher


def _leaks(body: str) -> list[str]:
    return [s for s in SENTINELS if s in body]


@pytest.mark.xdist_group("leak")
def test_no_endpoint_returns_protected_values_without_a_grant(platform: Platform, tmp_path: Path) -> None:
    seeded = seed(platform, tmp_path)
    app = create_app(platform)
    operations = [(m.upper(), p, op) for p, ops in app.openapi()["paths"].items() for m, op in ops.items()]
    unknown = [(m, p) for m, p, _ in operations
               if m != "GET" and (m, p) not in NOT_DATA and (m, p) not in POST_PROBES]
    assert not unknown, f"operations the leak test does not cover (probe them or say why not): {unknown}"
    query = {"purpose": "case_investigation", "case_no": CASE, "since": "2026-11-01T00:00:00",
             "until": "2026-11-30T00:00:00", "max_s": "1"}  # max_s ends the hit stream after a second
    probed: dict[tuple[str, str], int] = {}
    watcher = watched_then_revoked(platform, tmp_path, seeded)
    stream = watcher.get("/api/v1/watch/stream", params={"after": "0", "max_s": "2"})
    assert "event: hit" in stream.text and '"access":"mask"' in stream.text.replace(" ", "")
    for n, role in enumerate([*ROLES, "watcher"]):
        client = watcher if role == "watcher" else _client(platform, role, n)
        answers: list[tuple[str, Any]] = []
        for method, path, _op in operations:
            if method != "GET":
                continue
            for concrete in _fill(path, seeded):
                res = client.get(concrete, params=query)
                answers.append((f"GET {concrete}", res))
                probed[(method, path)] = probed.get((method, path), 0) + 1
        answers += _probe_posts(client)
        for what, res in answers:
            found = _leaks(res.text)
            assert not found, f"{role}: {what} ({res.status_code}) returned protected values in clear"
        # the probes must have reached data, not only refusals: masked hits of 云州's people came back
        search = client.post("/api/v1/search", json={"q": PEOPLE[2][0], "purpose": "case_investigation",
                                                     "case_no": CASE})
        if role in ("officer", "investigator", "dispatcher", "city_approver", "watcher"):
            persons = next(g for g in search.json()["groups"] if g["category"] == "person")["items"]
            assert persons and persons[0]["access"] == "mask", role
            exported = client.post("/api/v1/search/export", json={"q": PEOPLE[2][0], "category": "person",
                                                                   "purpose": "case_investigation", "case_no": CASE})
            assert f"\r\nmask,{YUNZHOU},sensitive," in exported.text, role  # the masked hit, as a CSV row
    assert all(probed.values())
