"""``lianfang audit``: checkpoint, verify (intact and tampered), purge inside retention refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from lianfang.audit import AuditEvent
from lianfang.cli import app
from lianfang.platform import Platform

runner = CliRunner()


@pytest.fixture
def plat(cli_platform: Platform) -> Platform:
    now = int(time.time() * 1000)
    cli_platform.audit.append(
        [AuditEvent(action="data.search", outcome="ok", at_ms=now + i, user_id=1, target=(f"person:{i}",))
         for i in range(25)]
    )
    return cli_platform


def test_checkpoint_verify_and_detect_tampering(plat: Platform, tmp_path: Path) -> None:
    out = runner.invoke(app, ["audit", "checkpoint", "--export", str(tmp_path / "cp.json")])
    assert out.exit_code == 0, out.output
    assert "seq 25" in out.output and (tmp_path / "cp.json").exists()
    out = runner.invoke(app, ["audit", "verify", "-c", str(tmp_path / "cp.json")])
    assert out.exit_code == 0, out.output
    assert "intact" in out.output and "25" in out.output

    with plat.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_guard ON audit_event"))
        conn.execute(text("UPDATE audit_event SET outcome = 'denied' WHERE seq = 3"))
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 1
    assert "TAMPERED" in out.output and "[broken_link] record 3" in out.output


def test_verify_refuses_an_unreadable_checkpoint_file(plat: Platform, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    out = runner.invoke(app, ["audit", "verify", "-c", str(tmp_path / "bad.json")])
    assert out.exit_code == 1
    assert "cannot read checkpoint" in out.output


def test_purge_inside_retention_is_refused(plat: Platform) -> None:
    out = runner.invoke(app, ["audit", "purge", "--before", time.strftime("%Y-%m-%d"), "--yes"])
    assert out.exit_code == 1
    assert "inside the retention period" in out.output
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 0 and "25" in out.output


def test_alarms_list_and_dispose(plat: Platform) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    sunday_night = int(datetime(2026, 11, 29, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
    # a user of its own: the fixture's traffic runs at the wall clock, which may itself be after hours
    plat.audit.record(AuditEvent(action="data.view", outcome="allow", at_ms=sunday_night, user_id=4242,
                                 target=("person:1",), case_no="A1"))
    plat.alarm_worker.drain()
    out = runner.invoke(app, ["audit", "alarms", "--rule", "after_hours"])
    assert out.exit_code == 0 and "after_hours" in out.output and "2026-11-29 23:30" in out.output
    alarm_id = next(a["id"] for a in plat.alarms.list(rule="after_hours") if a["user_id"] == 4242)
    out = runner.invoke(app, ["audit", "dispose", str(alarm_id), "--as", "false_positive", "--note", "值班"])
    assert out.exit_code == 0, out.output
    assert runner.invoke(app, ["audit", "dispose", str(alarm_id), "--as", "confirmed", "--note", "x"]).exit_code == 1
    still_open = runner.invoke(app, ["audit", "alarms", "--rule", "after_hours"]).output
    assert "2026-11-29 23:30" not in still_open  # the list shows open alarms only
    assert [a["id"] for a in plat.alarms.list(status="false_positive")] == [alarm_id]


def test_quarterly_report(plat: Platform, tmp_path: Path) -> None:
    out = runner.invoke(app, ["audit", "report", "--quarter", "2026Q4", "--out", str(tmp_path / "r")])
    assert out.exit_code == 0, out.output
    assert "25 events in 2026Q4" in out.output and "intact" in out.output
    assert (tmp_path / "r" / "report-2026Q4.pdf").read_bytes().startswith(b"%PDF")
    assert "完整 intact" in (tmp_path / "r" / "report-2026Q4.html").read_text(encoding="utf-8")
    bad = runner.invoke(app, ["audit", "report", "--quarter", "autumn"])
    assert bad.exit_code == 1 and "2026Q3" in bad.output
