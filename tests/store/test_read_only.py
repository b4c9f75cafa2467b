"""Read-only connections: one round trip per read on PostgreSQL, and the pool stays transactional."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from lianfang.platform import Platform
from lianfang.store.engine import read_only


def test_a_read_only_connection_reads_and_leaves_the_pool_transactional(platform: Platform) -> None:
    engine = platform.engine
    users = platform.metadata.tables["app_user"]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (x INTEGER)"))
    with read_only(engine) as conn:
        assert conn.execute(select(users.c.id)).all() == []
        if engine.dialect.name == "postgresql":
            assert conn.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
    # the same pooled connection, next used for a write, is in a transaction again: all or nothing
    with pytest.raises(RuntimeError), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            assert not conn.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
        conn.execute(text("INSERT INTO probe (x) VALUES (1)"))
        raise RuntimeError("the write fails half-way")
    with read_only(engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0


def test_postgresql_reads_send_no_begin_or_rollback(platform: Platform, tmp_path: Path) -> None:
    engine = platform.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's driver begins no transaction for a read in any case")
    trace = tmp_path / "trace"
    with read_only(engine) as conn:  # a pooled connection to trace
        raw = conn.connection.dbapi_connection
    fd = os.open(trace, os.O_WRONLY | os.O_CREAT)
    raw.pgconn.trace(fd)  # type: ignore[union-attr]
    try:
        with read_only(engine) as conn:
            assert conn.connection.dbapi_connection is raw
            conn.execute(text("SELECT 1")).scalar_one()
    finally:
        raw.pgconn.untrace()  # type: ignore[union-attr]
        os.close(fd)
    sent = [line.split("\t")[3] for line in trace.read_text(encoding="utf-8").splitlines() if "\tF\t" in line]
    queries = [s for s in sent if s.startswith("Query")]
    assert not any("BEGIN" in s or "ROLLBACK" in s for s in sent), sent
    assert len(queries) <= 2, sent  # the pool's liveness ping and the read itself


def test_a_postgresql_connection_closed_while_idle_is_replaced_not_failed(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server ended a pooled connection (a restart, an idle timeout): the next read still works."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    from lianfang.store import engine as engines

    engine = platform.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("a SQLite connection is a file handle; no server can close it")

    def pooled_backend() -> int:
        with read_only(engine) as conn:
            return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def end(pid: int) -> None:
        admin = create_engine(engine.url, poolclass=NullPool)  # outside the pool under test
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(200):  # until the backend has gone (bounded: 10 s)
                if other.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                 {"pid": pid}).scalar_one() == 0:
                    break
                time.sleep(0.05)
        admin.dispose()

    engine.pool.dispose()
    first = pooled_backend()
    end(first)
    monkeypatch.setattr(engines, "IDLE_PING_S", 0.0)  # it has been idle long enough to be pinged
    again = pooled_backend()
    assert again != first  # a fresh connection, and the read worked
    # without the ping, the same situation fails the read
    end(again)
    monkeypatch.setattr(engines, "IDLE_PING_S", 3600.0)
    with pytest.raises(OperationalError):
        pooled_backend()


def test_a_raw_read_finds_a_row_and_leaves_the_pool_transactional(platform: Platform) -> None:
    from sqlalchemy import bindparam

    from lianfang.store.engine import RawRead

    engine = platform.engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (x INTEGER, label TEXT)"))
        conn.execute(text("INSERT INTO probe (x, label) VALUES (1, '一'), (2, '二')"))
    probe = text("SELECT x, label FROM probe WHERE x = :x").bindparams(bindparam("x"))
    read = RawRead(engine, probe)
    assert read.first({"x": 2}) == {"x": 2, "label": "二"}
    assert read.first({"x": 3}) is None
    with pytest.raises(RuntimeError), engine.begin() as conn:  # the same pooled connection: all or nothing
        if engine.dialect.name == "postgresql":
            assert not conn.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
        conn.execute(text("INSERT INTO probe (x, label) VALUES (9, 'x')"))
        raise RuntimeError("the write fails half-way")
    assert read.first({"x": 9}) is None


def test_a_raw_read_with_a_limit_gives_rows_read_like_sqlalchemy_rows(platform: Platform) -> None:
    from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, String, Table, bindparam, insert

    from lianfang.store.engine import RawRead

    engine = platform.engine
    table = Table("probe_rows", MetaData(), Column("id", BigInteger, primary_key=True), Column("label", String(8)),
                  Column("blob", LargeBinary))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "label": f"第{i}", "blob": bytes([i])} for i in range(1, 6)])
    # SQLite writes a bound LIMIT as "LIMIT ? OFFSET ?": the offset is the statement's own value
    stmt = select(table).where(table.c.id >= bindparam("low")).order_by(table.c.id).limit(bindparam("limit"))
    read = RawRead(engine, stmt)
    rows = read.rows({"low": 2, "limit": 3})
    with engine.connect() as conn:
        expected = conn.execute(stmt, {"low": 2, "limit": 3}).all()
    assert [r.id for r in rows] == [2, 3, 4]
    assert [dict(r._mapping) for r in rows] == [dict(e._mapping) for e in expected]
    assert bytes(rows[0].blob) == b"\x02" and rows[0].label == "第2"
    with pytest.raises(AttributeError):
        _ = rows[0].missing
