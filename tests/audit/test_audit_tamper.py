"""Every kind of change to the trail is detected by `audit verify` (with the database's guards off).

An attacker here has full write access to the database (the append-only triggers
are dropped first) but not the key file, except where a test says otherwise.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text

from lianfang.audit import Audit, AuditEvent
from lianfang.audit.checkpoint import export_checkpoint, read_checkpoint, sign_checkpoint
from lianfang.audit.event import CHAINED_COLUMNS
from lianfang.audit.trail import link
from lianfang.crypto import create_key_file
from lianfang.platform import Platform
from lianfang.standard import load_standard
from lianfang.store.schema import build_metadata

N = 40


def event(i: int) -> AuditEvent:
    return AuditEvent(
        action="data.view",
        outcome="ok",
        at_ms=1_790_000_000_000 + i * 1000,
        user_id=7,
        username="yz_inv_1",
        unit_code="360200",
        role="investigator",
        target=(f"person:{i}",),
        purpose="case_investigation",
        case_no="A3602002026110007",
        result_count=1,
        client="127.0.0.1",
    )


@pytest.fixture
def audit(platform: Platform) -> Iterator[Audit]:
    platform.audit.append([event(i) for i in range(1, N + 1)])
    with platform.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_retention"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_guard ON audit_event"))
    yield platform.audit


def problems(audit: Audit, **kw: object) -> list[tuple[str, int]]:
    return [(p.kind, p.seq) for p in audit.verify(**kw).problems]  # type: ignore[arg-type]


def run(audit: Audit, sql: str, **params: object) -> None:
    with audit.engine.begin() as conn:
        conn.execute(text(sql), params)


def rows(conn: Connection) -> list[dict[str, object]]:
    return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_event ORDER BY seq"))]


def test_untouched_trail_verifies(audit: Audit) -> None:
    assert problems(audit) == []


def test_edited_record(audit: Audit) -> None:
    run(audit, "UPDATE audit_event SET outcome = 'denied' WHERE seq = 12")
    assert problems(audit) == [("broken_link", 12)]


def test_edited_record_with_recomputed_chain_fails_the_mac(audit: Audit) -> None:
    """Whoever edits and recomputes every later hash still cannot make the MACs."""
    with audit.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET result_count = 0 WHERE seq = 20"))
        all_rows = rows(conn)
        prev = bytes(all_rows[18]["hash"])  # type: ignore[arg-type]
        for r in all_rows[19:]:
            prev = link(prev, int(r["seq"]), {c: r[c] for c in CHAINED_COLUMNS})  # type: ignore[call-overload]
            conn.execute(text("UPDATE audit_event SET hash = :h WHERE seq = :s"), {"h": prev, "s": r["seq"]})
    found = problems(audit)
    assert ("bad_mac", 20) in found and all(kind == "bad_mac" for kind, _ in found)
    assert [seq for _, seq in found] == list(range(20, N + 1))


def test_deleted_record(audit: Audit) -> None:
    run(audit, "DELETE FROM audit_event WHERE seq = 7")
    assert problems(audit) == [("missing", 7), ("broken_link", 8)]


def test_inserted_record(audit: Audit) -> None:
    with audit.engine.begin() as conn:
        r = rows(conn)[9]  # a copy of record 10, slipped in after it
        for seq in range(N, 10, -1):
            conn.execute(text("UPDATE audit_event SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
        r["seq"] = 11
        cols = ", ".join(r)
        conn.execute(text(f"INSERT INTO audit_event ({cols}) VALUES ({', '.join(':' + c for c in r)})"), r)
    found = problems(audit)
    assert ("broken_link", 11) in found and ("broken_link", 12) in found


def test_reordered_records(audit: Audit) -> None:
    with audit.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET seq = -1 WHERE seq = 15"))
        conn.execute(text("UPDATE audit_event SET seq = 15 WHERE seq = 16"))
        conn.execute(text("UPDATE audit_event SET seq = 16 WHERE seq = -1"))
    found = problems(audit)
    assert ("broken_link", 15) in found and ("broken_link", 16) in found


def test_forged_tail_record_fails_the_mac(audit: Audit) -> None:
    with audit.engine.begin() as conn:
        last = rows(conn)[-1]
        forged = dict(last, seq=N + 1, outcome="ok", result_count=0)
        forged["hash"] = link(bytes(last["hash"]), N + 1, {c: forged[c] for c in CHAINED_COLUMNS})  # type: ignore[arg-type]
        forged["mac"] = bytes(32)
        conn.execute(
            text(f"INSERT INTO audit_event ({', '.join(forged)}) VALUES ({', '.join(':' + c for c in forged)})"),
            forged,
        )
    assert problems(audit) == [("bad_mac", N + 1)]


def test_truncation_is_caught_by_the_database_checkpoint(audit: Audit) -> None:
    audit.checkpoint()
    run(audit, "DELETE FROM audit_event WHERE seq > 30")
    assert problems(audit) == [("truncated", N)]


def test_truncation_with_checkpoints_removed_is_caught_by_an_exported_one(audit: Audit, tmp_path: Path) -> None:
    export_checkpoint(audit.checkpoint(), tmp_path / "cp.json")
    run(audit, "DELETE FROM audit_event WHERE seq > 30")
    run(audit, "DELETE FROM audit_checkpoint")
    assert problems(audit) == []  # without an outside copy a clean cut at the end looks whole
    assert problems(audit, exported=[read_checkpoint(tmp_path / "cp.json")]) == [("truncated", N)]


def test_rewritten_history_differs_from_an_exported_checkpoint(audit: Audit, tmp_path: Path) -> None:
    export_checkpoint(audit.checkpoint(), tmp_path / "cp.json")
    # someone with the key file rebuilds the trail from record 5 on: MACs and links verify again
    with audit.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq >= 5"))
        conn.execute(text("DELETE FROM audit_checkpoint"))
    forger = Audit(audit.engine, audit.keyring, build_metadata(load_standard()))  # a fresh process
    forger.append([event(i + 1000) for i in range(5, N + 1)])
    assert problems(audit) == []
    assert problems(audit, exported=[read_checkpoint(tmp_path / "cp.json")]) == [("checkpoint_mismatch", N)]


def test_roll_back_to_an_older_copy(platform: Platform, tmp_path: Path) -> None:
    if platform.engine.dialect.name != "sqlite":
        pytest.skip("restoring a file copy is the SQLite form of a roll-back; PostgreSQL is covered by truncation")
    audit = platform.audit
    audit.append([event(i) for i in range(1, 11)])
    db = Path(platform.engine.url.database or "")
    platform.alarm_worker.drain()  # no connection may stay open across the file swap
    audit.close()  # the trail's own connection
    platform.engine.dispose()
    with platform.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    platform.engine.dispose()
    shutil.copy(db, tmp_path / "old.db")
    audit.append([event(i) for i in range(11, 21)])
    export_checkpoint(audit.checkpoint(), tmp_path / "cp.json")
    platform.alarm_worker.drain()
    audit.close()
    platform.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copy(tmp_path / "old.db", db)
    assert problems(audit) == []
    assert problems(audit, exported=[read_checkpoint(tmp_path / "cp.json")]) == [("truncated", 20)]


def test_tampered_checkpoint_file(audit: Audit, tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    export_checkpoint(audit.checkpoint(), path)
    raw = json.loads(path.read_text())
    raw["seq"] = 20
    path.write_text(json.dumps(raw))
    assert ("bad_signature", 20) in problems(audit, exported=[read_checkpoint(path)])


def test_checkpoint_signed_by_another_key(audit: Audit, tmp_path: Path) -> None:
    stranger = create_key_file(tmp_path / "other.key")
    with audit.engine.connect() as conn:
        last = conn.execute(select(audit.events.c.hash).where(audit.events.c.seq == N)).scalar_one()
    cp = sign_checkpoint(stranger, "checkpoint", N, bytes(last), int(time.time() * 1000))
    assert problems(audit, exported=[cp]) == [("foreign_key", N)]


def test_parallel_verification_finds_the_same_problems(audit: Audit, monkeypatch: pytest.MonkeyPatch) -> None:
    """Long trails are checked in ranges by worker processes; ranges must not hide or invent problems."""
    import lianfang.audit.verify as verify_module

    if audit.engine.url.get_backend_name() == "sqlite" and not audit.engine.url.database:
        pytest.skip("an in-memory database cannot be shared with worker processes")
    run(audit, "UPDATE audit_event SET outcome = 'denied' WHERE seq = 31")
    run(audit, "DELETE FROM audit_event WHERE seq IN (20, 21)")  # a gap across the boundary of two ranges
    run(audit, "DELETE FROM audit_event WHERE seq = 1")
    sequential = audit.verify()
    monkeypatch.setattr(verify_module, "PARALLEL_MIN", 0)
    parallel = verify_module.verify_trail(audit.engine, audit.keyring, audit.events, audit.checkpoints, workers=2)
    assert parallel.workers == 2
    assert [(p.kind, p.seq) for p in parallel.problems] == [(p.kind, p.seq) for p in sequential.problems] == [
        ("missing", 1), ("broken_link", 2), ("missing", 20), ("broken_link", 22), ("broken_link", 31)]
    assert [p.message for p in parallel.problems] == [p.message for p in sequential.problems]
    assert (parallel.records, parallel.last_seq, parallel.head_hash) == (
        sequential.records, sequential.last_seq, sequential.head_hash)


def test_a_running_trail_does_not_heal_a_deleted_tail(audit: Audit) -> None:
    """The appender links to what it last wrote, so deleting the newest records shows as a gap."""
    run(audit, "DELETE FROM audit_event WHERE seq > 35")
    audit.record(event(99))
    assert problems(audit) == [("missing", 36), ("broken_link", 41)]


def test_two_appenders_interleave_without_breaking_the_chain(audit: Audit, monkeypatch: pytest.MonkeyPatch) -> None:
    from lianfang.audit import trail

    monkeypatch.setattr(trail, "CONTENDED_S", 3600.0)  # however slow this machine, the rounds stay contended
    other = Audit(audit.engine, audit.keyring, build_metadata(load_standard()))  # another process's trail
    for i in range(5):
        audit.record(event(100 + i))
        other.record(event(200 + i))
    # in the second round each finds the other's newest record where its next one was to go and goes
    # on after it, exclusively; on PostgreSQL each then takes the write lock first (the other is busy)
    expected = (1, 1) if audit.engine.dialect.name == "postgresql" else (4, 4)
    assert (audit.trail.collisions, other.trail.collisions) == expected
    assert problems(audit) == []
    with audit.engine.connect() as conn:
        assert conn.execute(text("SELECT max(seq), count(*) FROM audit_event")).one() == (N + 10, N + 10)


def test_a_deleted_tail_shows_after_a_neighbour_made_the_appender_exclusive(
        audit: Audit, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exclusive appends read the stored head, but never go on from one behind their own last record."""
    from lianfang.audit import trail

    monkeypatch.setattr(trail, "CONTENDED_S", 3600.0)
    other = Audit(audit.engine, audit.keyring, build_metadata(load_standard()))
    other.record(event(200))  # N + 1
    audit.record(event(100))  # meets N + 1, goes on exclusively: N + 2 (and stays exclusive on PostgreSQL)
    run(audit, f"DELETE FROM audit_event WHERE seq > {N + 1}")
    audit.record(event(101))
    assert problems(audit) == [("missing", N + 2), ("broken_link", N + 3)]


@pytest.mark.parametrize("batch", [1, 3, 10, 20_000])
def test_gaps_are_found_whatever_the_fetch_batches(audit: Audit, batch: int) -> None:
    """Each batch of fetched rows is checked for gaps at once when whole; a gap at or across its ends is not lost."""
    from lianfang.audit.trail import GENESIS, mac_key
    from lianfang.audit.verify import _scan

    run(audit, "DELETE FROM audit_event WHERE seq IN (1, 10, 11, 20, 33, 34, 35)")
    scan = _scan(audit.engine, mac_key(audit.keyring), 1, N, GENESIS, frozenset({12, 40}), batch=batch)
    assert [(p.kind, p.seq, p.last) for p in scan.problems if p.kind == "missing"] == [
        ("missing", 1, 1), ("missing", 10, 11), ("missing", 20, 20), ("missing", 33, 35)]
    assert sorted(scan.seen) == [12, 40] and scan.records == N - 7 and (scan.first, scan.last) == (2, N)
