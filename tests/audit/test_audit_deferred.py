"""Audit events of requests served on the event loop: handed over without blocking, awaited before answering."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import func, select, text

from lianfang.audit import AuditEvent, AuditUnavailable
from lianfang.platform import Platform


def event(i: int, *, result_count: int = 1) -> AuditEvent:
    return AuditEvent(action="data.search", outcome="allow", at_ms=int(time.time() * 1000), user_id=1 + i % 3,
                      username=f"bj_inv_{i % 3}", unit_code="360100", role="investigator",
                      target=(f"person:{i}",), purpose="case_investigation", case_no="A3601002026110001",
                      result_count=result_count, client="127.0.0.1")


def count(platform: Platform) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(platform.audit.events)).scalar_one())


def test_a_deferred_record_returns_at_once_and_durable_waits_for_the_commit(platform: Platform) -> None:
    audit = platform.audit
    audit.record(event(0))

    async def request() -> tuple[object, int]:
        with audit.deferred() as pending:
            handed = audit.record(event(1))
            await pending.durable()
            return handed, count(platform)

    handed, stored = asyncio.run(request())
    assert handed is None  # no sequence number yet: the request did not wait here
    assert stored == 2  # but once durable() returned, the event is in the trail
    report = audit.verify()
    assert report.ok and report.records == 2


def test_a_trail_that_cannot_be_written_fails_the_request_at_durable(platform: Platform) -> None:
    audit = platform.audit
    audit.record(event(0))  # the committer and its connection exist before the table goes away

    async def request() -> None:
        with audit.deferred() as pending:
            audit.record(event(1))  # nothing raised yet: the write happens on the committer's thread
            await pending.durable()

    with platform.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event RENAME TO audit_event_away"))
    try:
        with pytest.raises(AuditUnavailable):
            asyncio.run(request())
    finally:
        with platform.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_event_away RENAME TO audit_event"))
    assert count(platform) == 1


def test_a_record_on_another_thread_inside_the_block_still_waits_for_its_commit(platform: Platform) -> None:
    audit = platform.audit

    async def request() -> object:
        with audit.deferred() as pending:
            # the context (and so the deferral) travels to the thread, but only the loop's thread may defer
            seq = await asyncio.to_thread(audit.record, event(1))
            assert not pending.futures
            return seq

    assert asyncio.run(request()) == 1


def test_loop_callers_and_thread_callers_share_batches_and_each_get_their_own_event(platform: Platform) -> None:
    audit = platform.audit
    seen: list[int] = []
    lock = threading.Lock()

    def thread_caller(k: int) -> None:
        for i in range(20):
            seq = audit.record(event(1000 * k + i, result_count=k))
            assert seq is not None
            with lock:
                seen.append(seq)

    async def loop_callers() -> list[int]:
        async def one(i: int) -> list[int]:
            with audit.deferred() as pending:
                audit.record(event(i, result_count=99))
                futures = list(pending.futures)
                await pending.durable()
            return [f.result() for f in futures]

        answers = await asyncio.gather(*(one(i) for i in range(60)))
        return [s for a in answers for s in a]

    threads = [threading.Thread(target=thread_caller, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    from_loop = asyncio.run(loop_callers())
    for t in threads:
        t.join()
    assert len(from_loop) == 60 and len(seen) == 80
    assert sorted(from_loop + seen) == list(range(1, 141))  # every caller got a distinct, stored event
    with platform.engine.connect() as conn:
        mine = conn.execute(select(func.count()).select_from(audit.events)
                            .where(audit.events.c.result_count == 99)).scalar_one()
        stored_seqs = {int(s) for (s,) in conn.execute(select(audit.events.c.seq)
                                                      .where(audit.events.c.result_count == 99))}
    assert mine == 60 and stored_seqs == set(from_loop)  # the numbers the loop got are its own events'
    assert audit.verify().ok
