"""The quarterly audit report: counts from the trail, the integrity verdict, HTML and PDF with charts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from lianfang.audit import AuditEvent
from lianfang.audit.report import ReportError, build_report, quarter_bounds, render_html, render_pdf
from lianfang.platform import Platform

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10) -> int:
    return int(datetime(y, m, d, h, tzinfo=SH).timestamp() * 1000)


def read(uid: int, when: int, city: str, outcome: str = "allow", purpose: str = "case_investigation") -> AuditEvent:
    return AuditEvent(action="data.view", outcome=outcome, at_ms=when, user_id=uid, username=f"user_{uid}",
                      unit_code="360100" if uid < 3 else "360200", role="investigator", target=(f"person:{uid}",),
                      purpose=purpose, case_no="A1", result_count=1, detail={"owner_city": city, "level": "sensitive"})


def test_quarter_bounds() -> None:
    start, end = quarter_bounds("2026Q3", SH)
    assert datetime.fromtimestamp(start / 1000, SH).isoformat() == "2026-07-01T00:00:00+08:00"
    assert datetime.fromtimestamp(end / 1000, SH).isoformat() == "2026-10-01T00:00:00+08:00"
    assert quarter_bounds("2026q4", SH)[1] == int(datetime(2027, 1, 1, tzinfo=SH).timestamp() * 1000)
    for bad in ("2026Q5", "Q3", "2026-3"):
        with pytest.raises(ReportError, match="2026Q3"):
            quarter_bounds(bad, SH)


def test_report_counts_the_quarter_and_verifies(platform: Platform, tmp_path: Path) -> None:
    events = [read(1, at(2026, 7, 2), "360200") for _ in range(3)]
    events += [read(2, at(2026, 8, 15), "360100"), read(3, at(2026, 9, 30, 23), "360200", outcome="mask")]
    events += [read(1, at(2026, 6, 30, 23), "360300"), read(1, at(2026, 10, 1, 0), "360300")]  # outside Q3
    events += [AuditEvent(action="access.approve", outcome="ok", at_ms=at(2026, 7, 3), user_id=9)]
    platform.audit.append(events)
    platform.alarm_worker.drain()
    rep = build_report(platform.audit, platform.alarms, "2026Q3", SH)
    assert rep.events == 6
    assert rep.by_city == {"360200": 4, "360100": 1}
    assert rep.outcomes == {"allow": 4, "mask": 1}
    assert rep.by_user.most_common(1) == [("user_1", 3)]
    assert rep.decisions == {"approve:ok": 1}
    assert rep.verified and rep.verified_records == 8
    html = render_html(rep)
    assert "完整 intact" in html and "<svg" in html and "360200" in html
    render_pdf(rep, tmp_path / "r.pdf")
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_report_shows_tampering(platform: Platform, tmp_path: Path) -> None:
    platform.audit.append([read(1, at(2026, 7, 2), "360200") for _ in range(3)])
    with platform.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_guard ON audit_event"))
        conn.execute(text("UPDATE audit_event SET outcome = 'deny' WHERE seq = 2"))
    rep = build_report(platform.audit, platform.alarms, "2026Q3", SH)
    assert not rep.verified and "broken_link" in rep.problems[0]
    assert "被篡改 TAMPERED" in render_html(rep)
