"""Appending to the audit trail: sequence numbers, the SM3 chain, durable commits.

``AuditTrail.append`` writes a batch of events in one transaction: each gets the
next sequence number, ``hash = SM3(previous hash || canonical(seq, event))`` and
``mac = HMAC-SM3(key, hash)``. Any failure raises :class:`AuditUnavailable` —
callers refuse the data access they were about to give (fail closed) — and is
reported to ``on_failure`` (the alarm hook).

``GroupCommitter`` lets many request threads share commits: each caller waits
until the batch holding its event is durable, so a caller never returns data
whose access is not yet on disk, while one fsync covers many events.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from lianfang.audit.event import AuditEvent, canonical
from lianfang.crypto import KeyRing, hmac_sm3_keyed, sm3_digest

log = logging.getLogger(__name__)

GENESIS = bytes(32)
_PG_LOCK_KEY = 0x6C69_616E_6661_6E67 & 0x7FFF_FFFF_FFFF_FFFF  # "lianfang", one advisory lock for appenders


class AuditUnavailable(RuntimeError):
    """The audit trail could not be written; the access that needed it must be refused."""


def link(prev: bytes, seq: int, row: dict[str, Any]) -> bytes:
    """The chain: SM3(previous hash || canonical(seq, event))."""
    return sm3_digest(prev + canonical(seq, row))


def mac_key(keyring: KeyRing) -> bytes:
    return keyring.derive("audit:chain-mac")


class AuditTrail:
    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        events: Table,
        checkpoints: Table,
        *,
        on_failure: Callable[[BaseException], None] | None = None,
    ):
        self.engine = engine
        self.events = events
        self.checkpoints = checkpoints
        self._mac = hmac_sm3_keyed(mac_key(keyring))
        self._lock = threading.Lock()
        self._on_failure = on_failure

    def append(self, events: Sequence[AuditEvent]) -> list[int]:
        """Store ``events`` durably, in order; return their sequence numbers."""
        if not events:
            return []
        rows = [e.checked().row() for e in events]
        with self._lock:
            for attempt in range(20):
                try:
                    with self.engine.begin() as conn:
                        return self._write(conn, [dict(r) for r in rows])
                except (IntegrityError, OperationalError) as exc:
                    # another process appended between our read of the head and our insert
                    if attempt == 19 or not _retryable(exc):
                        raise self._failed(exc) from exc
                except Exception as exc:
                    raise self._failed(exc) from exc
        raise AssertionError("unreachable")

    def _failed(self, exc: BaseException) -> AuditUnavailable:
        log.critical("audit trail write failed: %s", type(exc).__name__)
        if self._on_failure is not None:
            try:
                self._on_failure(exc)
            except Exception:  # the alarm hook must not mask the refusal
                log.exception("audit failure hook raised")
        return AuditUnavailable("the audit trail cannot be written; access refused")

    def _write(self, conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        seq, prev = head(conn, self.events, self.checkpoints)
        seqs = []
        for row in rows:
            seq += 1
            prev = link(prev, seq, row)
            row.update(seq=seq, hash=prev, mac=self._mac(prev))
            seqs.append(seq)
        conn.execute(insert(self.events), rows)
        return seqs


def head(conn: Connection, events: Table, checkpoints: Table) -> tuple[int, bytes]:
    """(last sequence number, its hash); after a purge of everything, the purge anchor's."""
    last = conn.execute(select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)).first()
    if last is not None:
        return int(last.seq), bytes(last.hash)
    anchor = conn.execute(
        select(checkpoints.c.seq, checkpoints.c.hash)
        .where(checkpoints.c.kind == "purge")
        .order_by(checkpoints.c.seq.desc())
        .limit(1)
    ).first()
    if anchor is not None:
        return int(anchor.seq), bytes(anchor.hash)
    return 0, GENESIS


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


class GroupCommitter:
    """Shares commits between concurrent callers; :meth:`record` returns once durable."""

    def __init__(self, trail: AuditTrail, *, max_batch: int = 2000, timeout_s: float = 30.0):
        self.trail = trail
        self.max_batch = max_batch
        self.timeout_s = timeout_s
        self._queue: queue.Queue[tuple[AuditEvent, Future[int]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="lianfang-audit-commit", daemon=True)
        self._thread.start()

    def record(self, event: AuditEvent) -> int:
        """Append ``event``; returns its sequence number once committed, or raises AuditUnavailable."""
        event.checked()  # a bad event fails its caller alone, not the batch it would join
        fut: Future[int] = Future()
        self._queue.put((event, fut))
        try:
            return fut.result(timeout=self.timeout_s)
        except AuditUnavailable:
            raise
        except Exception as exc:
            raise AuditUnavailable("the audit trail did not confirm the write; access refused") from exc

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                seqs = self.trail.append([e for e, _ in batch])
            except BaseException as exc:
                for _, fut in batch:
                    fut.set_exception(exc if isinstance(exc, AuditUnavailable) else AuditUnavailable(str(exc)))
            else:
                for (_, fut), seq in zip(batch, seqs, strict=True):
                    fut.set_result(seq)
            if stop:
                return


__all__ = ["GENESIS", "AuditTrail", "AuditUnavailable", "GroupCommitter", "head", "link", "mac_key"]
