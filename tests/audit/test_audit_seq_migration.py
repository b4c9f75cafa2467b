"""Migration 0010: on SQLite the trail is rebuilt with ``seq`` as the rowid, and it still verifies."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from lianfang.audit import Audit, AuditEvent
from lianfang.crypto import create_key_file
from lianfang.standard import load_standard
from lianfang.store.engine import alembic_config, make_engine, migrate
from lianfang.store.schema import build_metadata


def _event(i: int) -> AuditEvent:
    return AuditEvent(action="data.view", outcome="ok", at_ms=int(time.time() * 1000), user_id=i % 4 or None,
                      username=f"u{i}", target=(f"person:{i}",), detail={"n": i})


def test_the_rebuilt_trail_keeps_every_record_its_checkpoint_and_its_guards(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'old.db').as_posix()}"
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009")
    audit = Audit(engine, create_key_file(tmp_path / "k.key"), build_metadata(load_standard()))
    audit.append([_event(i) for i in range(250)])
    exported = audit.checkpoint()
    audit.append([_event(i) for i in range(250, 300)])
    with engine.connect() as conn:
        before = conn.execute(text("SELECT * FROM audit_event ORDER BY seq")).all()
        assert "BIGINT" in conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'audit_event'")).scalar_one()

    migrate(engine)

    with engine.connect() as conn:
        assert conn.execute(text("SELECT * FROM audit_event ORDER BY seq")).all() == before
        assert conn.execute(text("SELECT count(*) FROM audit_event WHERE rowid = seq")).scalar_one() == 300
        plan = " ".join(str(r[-1]) for r in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT hash FROM audit_event WHERE seq BETWEEN 10 AND 20 ORDER BY seq")))
        assert "INTEGER PRIMARY KEY" in plan  # one B-tree: the table itself
        indexes = {r[0] for r in conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event'"))}
        assert indexes == {"ix_audit_event_at_ms", "ix_audit_event_user_id_at_ms"}
    report = audit.verify(exported=[exported])
    assert report.ok and report.records == 300, report.problems
    audit.append([_event(300)])  # the appender carries on from the rebuilt table
    assert audit.verify().records == 301
    with engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE audit_event SET outcome = 'denied' WHERE seq = 5"))
    with engine.begin() as conn, pytest.raises(Exception, match="retention"):
        conn.execute(text("DELETE FROM audit_event WHERE seq = 5"))
    engine.dispose()
