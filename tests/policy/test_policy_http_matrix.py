"""The access matrix through the HTTP API: every role × level × own/other city × grant state.

Real accounts sign in with password + TOTP; grants come from real requests approved
by a province approver (expired: approved two hours ago for one hour; revoked:
approved, then revoked). Each cell reads one record with GET /api/v1/records/…,
searches its citizen ID across all cities with POST /api/v1/search, exports that search
as a CSV file with POST /api/v1/search/export, and asks for access to it, and checks
each answer (status, access, which values came back) and the audit event it left.
Also: object-level authorisation (ID swapping across cities) and mass assignment on
request bodies.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from pathlib import Path

import pytest
from access_oracle import EXPECTED_REACH, GRANT_STATES, ORDER, expected  # registered by conftest.py
from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.identity.totp import code_at
from lianfang.ingest.mapping import load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform
from lianfang.policy.decision import Effect, Purpose, ScopeKind
from lianfang.policy.roles import Role
from lianfang.standard.levels import Level

BINJIANG, YUNZHOU = "360100", "360200"
CASE = "A3601002026110001"
PASSWORD = "Test-Password-2026"
HOUR = 3_600_000

MAPPING = """
mapping: test.matrix.{slug}
version: 1
city: "{city}"
system: MATRIX
source: {{format: csv, encoding: utf-8}}
formats: ["%Y%m%d"]
feeds:
  - category: person
    match: "{slug}*.csv"
    fields: {{citizen_id: GMSFHM, name: XM, phone: LXDH}}
"""
PEOPLE = {
    BINJIANG: ["11010519491231002X,张三,13812345678", "360102198506120031,李四,13912345670",
               "360102198506120058,王五,13912345671", "360102198506120074,赵六,13912345672"],
    YUNZHOU: ["360202199001010013,钱七,13712345673", "36020219900101003X,孙八,13712345674",
              "360202199001010056,周九,13712345675", "360202199001010072,吴十,13712345676"],
}


def seed_records(platform: Platform, tmp: Path) -> dict[tuple[str, Level], int]:
    """Four persons per city, one at each classification; returns (city, level) -> record id."""
    ids: dict[tuple[str, Level], int] = {}
    for city, slug in ((BINJIANG, "bj"), (YUNZHOU, "yz")):
        (tmp / f"{slug}.yaml").write_text(MAPPING.format(slug=slug, city=city), encoding="utf-8")
        (tmp / f"{slug}_1.csv").write_text("GMSFHM,XM,LXDH\n" + "\n".join(PEOPLE[city]) + "\n", encoding="utf-8")
        mapping = load_mapping(tmp / f"{slug}.yaml", platform.standard)
        ing = Ingestor(engine=platform.engine, standard=platform.standard, keyring=platform.keyring,
                       settings=platform.settings, mappings=[mapping])
        assert ing.ingest([tmp / f"{slug}_1.csv"], mapping=mapping).total("accepted") == 4
        with platform.engine.begin() as conn:
            rows = conn.execute(
                text("SELECT id FROM rec_person WHERE city_code = :c ORDER BY position"), {"c": city}
            ).all()
            for (rid,), level in zip(rows, ORDER, strict=True):
                conn.execute(text("UPDATE rec_person SET classification = :l WHERE id = :i"),
                             {"l": level.value, "i": rid})
                ids[(city, level)] = int(rid)
    return ids


def grant_all(platform: Platform, holder: str, approver: str, records: dict[tuple[str, Level], int],
              state: str) -> None:
    user, appr = platform.directory.get(holder), platform.directory.get(approver)
    assert user is not None and appr is not None
    now = int(time.time() * 1000)
    at = now - 2 * HOUR if state == "expired" else now - 1000
    for city in (BINJIANG, YUNZHOU):
        keys = [f"person:{rid}" for (c, _), rid in records.items() if c == city]
        req = platform.approvals.request(
            user, owner_city=city, level=Level.TOP_SECRET, scope=ScopeKind.RECORDS, keys=keys,
            purpose=Purpose("case_investigation", "", CASE), hours=1 if state == "expired" else 24, now_ms=at,
        )
        g = platform.approvals.approve(appr, req.id, reason="", now_ms=at)
        if state == "revoked":
            platform.approvals.revoke(appr, g.id, reason="", now_ms=now - 500)


def signed_in_client(plat: Platform, username: str) -> TestClient:
    client = TestClient(create_app(plat), base_url="https://testserver")
    secret = accounts[username]
    res = client.post("/api/v1/auth/sign-in",
                      json={"username": username, "password": PASSWORD, "code": code_at(secret, time.time())})
    assert res.status_code == 200, res.text
    return client


accounts: dict[str, str] = {}


def last_event(platform: Platform) -> dict[str, object]:
    with platform.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_event ORDER BY seq DESC")).first()
    assert row is not None
    return dict(row._mapping)


def id_in_clear(role: Role, level: Level, own: bool, state: str) -> bool:
    """The citizen ID (a sensitive field) is in clear only where sensitive data is readable."""
    field_level = level if level.rank >= Level.SENSITIVE.rank else Level.SENSITIVE
    return expected(role, field_level, own, state)[0] is Effect.ALLOW


def check_view(platform: Platform, client: TestClient, uid: int, role: Role, level: Level, own: bool, state: str,
               rid: int) -> str | None:
    """Read the record; the answer and its audit event must be what the oracle says."""
    effect, reason = expected(role, level, own, state)
    res = client.get(f"/api/v1/records/person/{rid}", params={"purpose": "case_investigation", "case_no": CASE})
    ev = last_event(platform)
    if effect is Effect.DENY and reason == "deny.above_hits":
        ok = res.status_code == 404 and ev["outcome"] == "hidden"
    elif effect is Effect.DENY:
        ok = res.status_code == 403 and res.json()["detail"]["reason"] == reason and ev["outcome"] == "denied"
    else:
        body = res.json()
        ok = res.status_code == 200 and body["access"] == effect.value and body["reason"] == reason
        ok = ok and ev["outcome"] == effect.value
        clear = id_in_clear(role, level, own, state)
        ok = ok and (("citizen_id" in body["values"]) == clear)
        if effect is Effect.MASK:
            ok = ok and "*" in body["masked"].get("citizen_id", "*") and not body["values"].get("phone")
            ok = ok and body["request_access"]["keys"] == [f"person:{rid}"]
        if reason == "allow.grant":
            ok = ok and ev["grant_id"] is not None
    ok = ok and ev["action"] == "data.view" and ev["user_id"] == uid and json.loads(str(ev["target"])) == [
        f"person:{rid}"] and ev["case_no"] == CASE
    return None if ok else f"expected {effect.value}/{reason}, got {res.status_code} {res.text[:160]} " \
        f"audit={ev['outcome']}"


def check_search(platform: Platform, client: TestClient, uid: int, role: Role, level: Level, own: bool, state: str,
                 rid: int, citizen_id: str) -> str | None:
    """Search the record's citizen ID across all cities: the row must come back as the oracle says."""
    effect, reason = expected(role, level, own, state)
    res = client.post("/api/v1/search", json={"q": citizen_id, "purpose": "case_investigation", "case_no": CASE})
    ev = last_event(platform)
    targets = json.loads(str(ev["target"]))
    if reason == "deny.no_data_access":
        ok = res.status_code == 403 and res.json()["detail"]["reason"] == reason and ev["outcome"] == "denied"
        shown = False
    else:
        persons = next(g for g in res.json()["groups"] if g["category"] == "person")
        items = [i for i in persons["items"] if i["id"] == rid]
        shown = effect is not Effect.DENY
        ok = res.status_code == 200 and len(items) == int(shown) and persons["withheld"] == int(not shown)
        if shown:
            item = items[0]
            clear = id_in_clear(role, level, own, state)
            ok = ok and item["access"] == effect.value and item["reason"] == reason
            ok = ok and (item["values"].get("citizen_id") == citizen_id) == clear
            if not clear:
                ok = ok and citizen_id not in res.text and "*" in item["masked"].get("citizen_id", "*")
        ok = ok and ev["outcome"] == (effect.value if shown else "none")
    ok = ok and ev["action"] == "data.search" and ev["user_id"] == uid and ev["case_no"] == CASE
    ok = ok and targets[0].startswith("q_citizen_id:") and (f"person:{rid}" in targets) == shown
    ok = ok and citizen_id not in json.dumps(ev, default=str, ensure_ascii=False)
    return None if ok else f"expected {effect.value}/{reason}, got {res.status_code} {res.text[:160]} " \
        f"audit={ev['outcome']}"


def check_export(platform: Platform, client: TestClient, uid: int, role: Role, level: Level, own: bool, state: str,
                 rid: int, citizen_id: str) -> str | None:
    """Export the same search as a CSV file: the file must hold the row exactly as the oracle says."""
    effect, reason = expected(role, level, own, state)
    res = client.post("/api/v1/search/export", json={"q": citizen_id, "category": "person",
                                                      "purpose": "case_investigation", "case_no": CASE})
    ev = last_event(platform)
    targets = json.loads(str(ev["target"]))
    if reason == "deny.no_data_access":
        ok = res.status_code == 403 and res.json()["detail"]["reason"] == reason and ev["outcome"] == "denied"
        shown = False
    else:
        rows = [r for r in csv.DictReader(io.StringIO(res.content.decode("utf-8-sig"))) if r["id"] == str(rid)]
        shown = effect is not Effect.DENY
        ok = res.status_code == 200 and len(rows) == int(shown)
        ok = ok and res.headers["x-lianfang-withheld"] == str(int(not shown))
        if shown:
            clear = id_in_clear(role, level, own, state)
            ok = ok and rows[0]["access"] == effect.value and (rows[0]["citizen_id"] == citizen_id) == clear
            if not clear:
                ok = ok and citizen_id not in res.text and (rows[0]["citizen_id"] in ("", None)
                                                            or "*" in rows[0]["citizen_id"])
        ok = ok and ev["outcome"] == (effect.value if shown else "none") and ev["result_count"] == int(shown)
    ok = ok and ev["action"] == "data.export" and ev["user_id"] == uid and ev["case_no"] == CASE
    ok = ok and targets[0].startswith("q_citizen_id:") and (f"person:{rid}" in targets) == shown
    ok = ok and citizen_id not in json.dumps(ev, default=str, ensure_ascii=False)
    return None if ok else f"expected {effect.value}/{reason}, got {res.status_code} {res.text[:160]} " \
        f"audit={ev['outcome']}"


def check_request(platform: Platform, client: TestClient, uid: int, role: Role, level: Level, city: str,
                  rid: int) -> str | None:
    """Ask for access to the record at its level: refused for roles that read nothing, invalid for public."""
    body = {"owner_city": city, "level": level.value, "scope": "records", "keys": [f"person:{rid}"],
            "purpose": "case_investigation", "case_no": CASE, "hours": 8}
    res = client.post("/api/v1/access/requests", json=body)
    ev = last_event(platform)
    no_data = EXPECTED_REACH[role] == (None, None, None)
    if no_data:
        want, outcome = 403, "denied"
    elif level is Level.PUBLIC:
        want, outcome = 422, "denied"  # nothing to grant: public data needs no grant and has no approver
    else:
        want, outcome = 201, "ok"
    ok = res.status_code == want and ev["action"] == "access.request" and ev["outcome"] == outcome
    ok = ok and ev["user_id"] == uid
    return None if ok else f"expected {want}/{outcome}, got {res.status_code} {res.text[:120]} audit={ev['outcome']}"


def test_access_matrix_over_http(platform: Platform, tmp_path: Path) -> None:
    records = seed_records(platform, tmp_path)
    now = int(time.time() * 1000)
    platform.directory.add("sheng_granter", display_name="省厅审批", unit_code="360000", unit_name="省厅",
                           roles=["province_approver"], now_ms=now, password=PASSWORD)
    clients: dict[tuple[Role, str], tuple[TestClient, int]] = {}
    for role, state in itertools.product(Role, GRANT_STATES):
        name = f"{role.value}_{state}"
        cred = platform.directory.add(name, display_name=name, unit_code=BINJIANG, unit_name="滨江",
                                      roles=[role.value], now_ms=now, password=PASSWORD)
        accounts[name] = cred.totp_secret
        if state != "none" and EXPECTED_REACH[role] != (None, None, None):
            grant_all(platform, name, "sheng_granter", records, state)  # roles reading nothing cannot ask
        user = platform.directory.get(name)
        assert user is not None
        clients[(role, state)] = (signed_in_client(platform, name), user.id)

    failures = []
    cells = 0
    for (role, state), (client, uid) in clients.items():
        client.headers["X-CSRF-Token"] = client.get("/api/v1/auth/me").json()["csrf_token"]
        for (city, level), rid in records.items():
            own = city == BINJIANG
            cells += 4
            cell = f"{role.value}/{level.value}/{'own' if own else 'other'}/{state}"
            problem = check_view(platform, client, uid, role, level, own, state, rid)
            if problem:
                failures.append(f"view {cell}: {problem}")
            citizen_id = PEOPLE[city][ORDER.index(level)].split(",")[0]
            problem = check_search(platform, client, uid, role, level, own, state, rid, citizen_id)
            if problem:
                failures.append(f"search {cell}: {problem}")
            problem = check_export(platform, client, uid, role, level, own, state, rid, citizen_id)
            if problem:
                failures.append(f"export {cell}: {problem}")
            problem = check_request(platform, client, uid, role, level, city, rid)
            if problem:
                failures.append(f"request {cell}: {problem}")
    # roles × levels × own/other × grant states × actions (view, search, export, ask)
    assert cells == 10 * 4 * 2 * 4 * 4
    assert not failures, "\n".join(failures[:20])
    assert platform.audit.verify().ok


def test_object_level_authorisation_and_mass_assignment(platform: Platform, tmp_path: Path) -> None:
    records = seed_records(platform, tmp_path)
    now = int(time.time() * 1000)
    for name, role, unit in (("yz_inv", "investigator", YUNZHOU), ("bj_inv", "investigator", BINJIANG),
                             ("bj_appr", "city_approver", BINJIANG)):
        accounts[name] = platform.directory.add(name, display_name=name, unit_code=unit, unit_name=unit,
                                                roles=[role], now_ms=now, password=PASSWORD).totp_secret
    bj = signed_in_client(platform, "bj_inv")
    csrf = bj.get("/api/v1/auth/me").json()["csrf_token"]
    params = {"purpose": "case_investigation", "case_no": CASE}
    # swapping in another city's IDs: sensitive is a masked hit, top secret is indistinguishable from missing
    assert bj.get(f"/api/v1/records/person/{records[(YUNZHOU, Level.SENSITIVE)]}", params=params).json()[
        "access"] == "mask"
    hidden = bj.get(f"/api/v1/records/person/{records[(YUNZHOU, Level.TOP_SECRET)]}", params=params)
    missing = bj.get("/api/v1/records/person/999999", params=params)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(str(records[(YUNZHOU, Level.TOP_SECRET)]), "N") == missing.json()[
        "detail"].replace("999999", "N")
    # every read names a purpose, and sensitive reads a case number
    sensitive = f"/api/v1/records/person/{records[(YUNZHOU, Level.SENSITIVE)]}"
    res = bj.get(sensitive)
    assert res.status_code == 403 and res.json()["detail"]["reason"] == "deny.purpose_missing"
    res = bj.get(sensitive, params={"purpose": "case_investigation"})
    assert res.status_code == 403 and res.json()["detail"]["reason"] == "deny.case_number_required"
    res = bj.get(sensitive, params={"purpose": "curiosity", "case_no": CASE})
    assert res.status_code == 403 and res.json()["detail"]["reason"] == "deny.purpose_unknown"
    # a request body cannot set what only the system or an approver sets
    base = {"owner_city": YUNZHOU, "level": "sensitive", "scope": "records",
            "keys": [f"person:{records[(YUNZHOU, Level.SENSITIVE)]}"], "purpose": "case_investigation",
            "case_no": CASE, "hours": 8}
    for extra in ({"status": "approved"}, {"approver_id": 1}, {"requester_id": 3}, {"classification": "public"},
                  {"grant_id": 1}):
        res = bj.post("/api/v1/access/requests", json={**base, **extra}, headers={"X-CSRF-Token": csrf})
        assert res.status_code == 422, (extra, res.text)
    res = bj.post("/api/v1/access/requests", json=base, headers={"X-CSRF-Token": csrf})
    assert res.status_code == 201 and res.json()["status"] == "pending"
    rid = res.json()["id"]
    # the requester cannot approve it, nor can another city's approver; 滨江's approver can
    assert bj.post(f"/api/v1/access/requests/{rid}/approve", json={}, headers={"X-CSRF-Token": csrf}
                   ).status_code == 403
    yz = signed_in_client(platform, "yz_inv")
    yz_csrf = yz.get("/api/v1/auth/me").json()["csrf_token"]
    assert yz.post(f"/api/v1/access/requests/{rid}/approve", json={}, headers={"X-CSRF-Token": yz_csrf}
                   ).status_code == 403
    appr = signed_in_client(platform, "bj_appr")
    appr_csrf = appr.get("/api/v1/auth/me").json()["csrf_token"]
    assert [r["id"] for r in appr.get("/api/v1/access/queue").json()["items"]] == [rid]
    res = appr.post(f"/api/v1/access/requests/{rid}/approve", json={"reason": "同意", "approver_role": "x"},
                    headers={"X-CSRF-Token": appr_csrf})
    assert res.status_code == 422  # mass assignment on the decision too
    res = appr.post(f"/api/v1/access/requests/{rid}/approve", json={"reason": "同意"},
                    headers={"X-CSRF-Token": appr_csrf})
    assert res.status_code == 200, res.text
    view = bj.get(f"/api/v1/records/person/{records[(YUNZHOU, Level.SENSITIVE)]}", params=params).json()
    assert view["access"] == "allow" and view["values"]["name"] == "周九"
    # the grant names this record only: the 云州 top-secret record stays hidden
    assert bj.get(f"/api/v1/records/person/{records[(YUNZHOU, Level.TOP_SECRET)]}", params=params
                  ).status_code == 404


def test_raising_a_record_protects_it_at_once(platform: Platform, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from lianfang.cli import app

    records = seed_records(platform, tmp_path)
    witness = records[(BINJIANG, Level.SENSITIVE)]
    now = int(time.time() * 1000)
    accounts["bj_inv3"] = platform.directory.add("bj_inv3", display_name="x", unit_code=BINJIANG, unit_name="x",
                                                 roles=["investigator"], now_ms=now, password=PASSWORD).totp_secret
    client = signed_in_client(platform, "bj_inv3")
    params = {"purpose": "case_investigation", "case_no": CASE}
    assert client.get(f"/api/v1/records/person/{witness}", params=params).json()["access"] == "allow"
    monkeypatch.setenv("LIANFANG_VAR_DIR", str(platform.settings.var_dir))
    monkeypatch.setenv("LIANFANG_DATABASE_URL", platform.settings.resolved_database_url())
    out = CliRunner().invoke(app, ["records", "classify", "person", str(witness), "top_secret", "--reason",
                                   "受保护证人 王五"])
    assert out.exit_code == 0, out.output
    assert client.get(f"/api/v1/records/person/{witness}", params=params).status_code == 404  # hidden at once
    bad = CliRunner().invoke(app, ["records", "classify", "person", str(witness), "internal", "--reason", "x"])
    assert bad.exit_code == 1 and "at least sensitive" in bad.output
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_event WHERE action = 'admin.classify'"))
        trail = " ".join(str(r) for r in rows)
    assert "top_secret" in trail and "王五" not in trail
