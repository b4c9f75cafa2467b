"""审计 pages: auditors only; the trail filtered and paged; alarms with evidence and their disposition;
the integrity check (htmx fragment or whole page)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from lianfang.platform import Platform

BINJIANG = "360100"


def _events(html: str) -> list[str]:
    return re.findall(r'data-action="([a-z_.]+)"', html)


def _probe_until_alarm(inv: Any, platform: Platform) -> None:
    """Five refusals in ten minutes raise a repeated-denials alarm."""
    for _ in range(5):
        assert inv.get("/audit").status_code == 403
    platform.alarm_worker.drain()


def test_only_auditors(web_user: Callable[..., Any], audit_actions: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    for url in ("/audit", "/audit/alarms"):
        assert inv.get(url).status_code == 403
    assert inv.post("/audit/verify").status_code == 403
    assert inv.post("/audit/alarms/1/dispose", {"status": "confirmed", "note": "x"}).status_code == 403
    assert audit_actions(inv.user_id).count(("authz.denied", "denied")) == 4
    auditor = web_user("aud", ["auditor"], "360000")
    home = auditor.get("/").text
    assert 'id="nav-audit"' in home and 'id="nav-access"' not in home and 'id="card-alarms"' in home


def test_trail_filters_and_pages(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    auditor = web_user("aud", ["auditor"], "360000")
    inv.get("/approvals")  # one refusal
    page = auditor.get("/audit")
    assert page.status_code == 200 and "审计日志" in page.text
    assert _events(page.text) == ["authz.denied", "auth.sign_in", "auth.sign_in"]  # newest first
    assert "越权访问被拒" in page.text and "route:approvals" in page.text
    assert _events(auditor.get("/audit", params={"user": "bj_inv"}).text) == ["authz.denied", "auth.sign_in"]
    assert _events(auditor.get("/audit", params={"user": str(inv.user_id), "outcome": "denied"}).text) == [
        "authz.denied"]
    # a Unicode digit ("²".isdigit() is true) or an id beyond 64 bits is a user name to look for, not an id
    for odd in ("²", "9" * 25):
        found = auditor.get("/audit", params={"user": odd})
        assert found.status_code == 200 and _events(found.text) == []
    assert _events(auditor.get("/audit", params={"action": "auth.*"}).text) == ["auth.sign_in", "auth.sign_in"]
    assert _events(auditor.get("/audit", params={"action": "auth.sign_out"}).text) == []
    # times are read and shown in Asia/Shanghai
    with platform.engine.connect() as conn:
        first_ms = conn.execute(text("SELECT at_ms FROM audit_event ORDER BY seq LIMIT 1")).scalar_one()
    local = datetime.fromtimestamp(first_ms / 1000, ZoneInfo("Asia/Shanghai"))
    assert local.strftime("%Y-%m-%d %H:%M:%S") in page.text
    later = (local.replace(second=0, microsecond=0)).strftime("%Y-%m-%dT%H:%M")
    assert len(_events(auditor.get("/audit", params={"until": "2000-01-01T00:00"}).text)) == 0
    assert len(_events(auditor.get("/audit", params={"since": later}).text)) == 3
    bad = auditor.get("/audit", params={"since": "yesterday"})
    assert bad.status_code == 200 and "筛选条件有误：起始时间" in bad.text and len(_events(bad.text)) == 3
    # paging: 50 a page
    for _ in range(50):
        inv.get("/audit/alarms")
    first = auditor.get("/audit", params={"user": "bj_inv"})
    assert len(_events(first.text)) == 50 and "第 1–50 条，共 52 条" in first.text and 'id="page-next"' in first.text
    second = auditor.get("/audit", params={"user": "bj_inv", "offset": "50"})
    assert _events(second.text) == ["authz.denied", "auth.sign_in"] and 'id="page-prev"' in second.text


def test_alarm_with_evidence_and_disposition(web_user: Callable[..., Any], platform: Platform,
                                             audit_actions: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG, display_name="李侦查", unit_name="滨江市公安局")
    auditor = web_user("aud", ["auditor"], "360000")
    _probe_until_alarm(inv, platform)
    [alarm] = platform.alarms.list(status="open")
    page = auditor.get("/audit/alarms")
    assert f'id="alarm-{alarm["id"]}" data-rule="repeated_denials" data-status="open"' in page.text
    assert "多次被拒绝" in page.text and "李侦查 · 滨江市公安局 (bj_inv)" in page.text
    assert '<span data-key="denials"><b>被拒次数</b>: 5</span>' in page.text
    assert '<span data-key="window_minutes"><b>时间窗（分钟）</b>: 10</span>' in page.text
    assert 'id="card-alarms"' in auditor.get("/").text and 'id="alarms">1<' in auditor.get("/").text
    url = f"/audit/alarms/{alarm['id']}/dispose"
    assert auditor.post(url, {"status": "confirmed", "note": ""}).status_code == 422
    assert auditor.post(url, {"status": "ignored", "note": "x"}).status_code == 422
    assert auditor.post(url, {"status": "confirmed", "note": "x"}, csrf="forged").status_code == 403
    res = auditor.post(url, {"status": "false_positive", "note": "新调岗民警误点，已提醒"})
    assert res.status_code == 303 and res.headers["location"] == "/audit/alarms?done=disposed"
    after = auditor.get(res.headers["location"])
    assert "告警已处置。" in after.text and 'id="alarms-empty"' in after.text
    assert ("audit.alarm_dispose", "false_positive") in audit_actions(auditor.user_id)
    shown = auditor.get("/audit/alarms", params={"status": "all"})
    assert "新调岗民警误点，已提醒" in shown.text and 'data-status="false_positive"' in shown.text
    assert auditor.post(url, {"status": "confirmed", "note": "again"}).status_code == 404  # no longer open


def test_integrity_check(web_user: Callable[..., Any], platform: Platform) -> None:
    auditor = web_user("aud", ["auditor"], "360000")
    fragment = auditor.client.post("/audit/verify", headers={"HX-Request": "true", "X-CSRF-Token": auditor.csrf})
    assert fragment.status_code == 200 and not fragment.text.lstrip().startswith("<!doctype")
    assert "完整：审计日志未被篡改。" in fragment.text and 'id="verify-records">1<' in fragment.text
    assert auditor.client.post("/audit/verify", headers={"HX-Request": "true"}).status_code == 403  # no token
    with platform.engine.begin() as conn:  # someone with write access to the database edits the trail
        if platform.engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_guard ON audit_event"))
        conn.execute(text("UPDATE audit_event SET outcome = 'denied' WHERE seq = 1"))
    page = auditor.post("/audit/verify")
    assert page.status_code == 200 and page.text.lstrip().startswith("<!doctype")
    assert "发现问题：审计日志可能被篡改！" in page.text and 'id="events"' in page.text
