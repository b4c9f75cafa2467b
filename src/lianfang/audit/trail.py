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
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from lianfang.audit.event import CHAINED_COLUMNS, AuditEvent, canonical, canonical_values
from lianfang.crypto import KeyRing, hmac_sm3_keyed, sm3_digest, sm3_hasher
from lianfang.store.bulk import bulk_insert

log = logging.getLogger(__name__)

GENESIS = bytes(32)
_PG_LOCK_KEY = 0x6C69_616E_6661_6E67 & 0x7FFF_FFFF_FFFF_FFFF  # "lianfang", one advisory lock for appenders


_COLUMNS = ("seq", *CHAINED_COLUMNS, "hash", "mac")


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
        on_append: Callable[[list[tuple[int, AuditEvent]]], None] | None = None,
    ):
        self.engine = engine
        self.on_append = on_append  # told of every committed event, in order (the alarm rules)
        # COPY goes through the driver directly: its errors arrive unwrapped by SQLAlchemy
        self._driver_integrity_error: type[Exception] = getattr(
            engine.dialect.loaded_dbapi, "IntegrityError", IntegrityError
        )
        self.events = events
        self.checkpoints = checkpoints
        self._mac = hmac_sm3_keyed(mac_key(keyring))
        self._sm3 = sm3_hasher()
        self._lock = threading.Lock()
        self._on_failure = on_failure
        # The head this process last committed. Reusing it saves a query per batch and keeps
        # the chain going from what *we* wrote: if another process appended meanwhile, our
        # first sequence number collides (IntegrityError) and we re-read; if the tail was
        # deleted behind our back, the next record still links to it and verify shows the gap.
        self._head: tuple[int, bytes] | None = None

    def append(self, events: Sequence[AuditEvent], *, checked: bool = False) -> list[int]:
        """Store ``events`` durably, in order; return their sequence numbers.

        ``checked`` says the caller already ran :meth:`AuditEvent.checked` on each event.
        """
        if not events:
            return []
        rows = [(e if checked else e.checked()).values() for e in events]
        with self._lock:
            for attempt in range(20):
                try:
                    with self.engine.begin() as conn:
                        seqs, last = self._write(conn, rows)
                    self._head = last
                    if self.on_append is not None:
                        try:
                            self.on_append(list(zip(seqs, events, strict=True)))
                        except Exception:  # alarms must never undo a committed audit write
                            log.exception("audit append hook failed")
                    return seqs
                except (IntegrityError, OperationalError, self._driver_integrity_error) as exc:
                    self._head = None
                    # another process appended between our read of the head and our insert
                    if attempt == 19 or not _retryable(exc, self._driver_integrity_error):
                        raise self._failed(exc) from exc
                except Exception as exc:
                    self._head = None
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

    def _write(self, conn: Connection, rows: list[tuple[Any, ...]]) -> tuple[list[int], tuple[int, bytes]]:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        seq, prev = self._head if self._head is not None else head(conn, self.events, self.checkpoints)
        first = seq + 1
        cells = []
        sm3, mac = self._sm3, self._mac
        for row in rows:
            seq += 1
            prev = sm3(prev + canonical_values((seq, *row)))
            cells.append((seq, *row, prev, mac(prev)))
        bulk_insert(conn, self.events.name, _COLUMNS, cells, copy=True)
        return list(range(first, seq + 1)), (seq, prev)


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


def _retryable(exc: BaseException, driver_integrity_error: type[Exception]) -> bool:
    if isinstance(exc, IntegrityError | driver_integrity_error):
        return True
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


class _Slot:
    """Where the committer leaves one caller's answer; ``done`` is released once it is there."""

    __slots__ = ("done", "error", "seq")

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.seq = 0
        self.error: BaseException | None = None


class GroupCommitter:
    """Shares commits between concurrent callers; :meth:`record` returns once durable.

    Callers append to a deque and wake the committer with an event (cheaper than a
    queue's condition per item); the committer takes everything pending, up to
    ``max_batch`` per transaction, and releases each caller's lock with its answer.
    """

    def __init__(self, trail: AuditTrail, *, max_batch: int = 2000, timeout_s: float = 30.0):
        self.trail = trail
        self.max_batch = max_batch
        self.timeout_s = timeout_s
        self.commits = 0  # transactions written (statistics)
        self.events = 0
        self._pending: deque[tuple[AuditEvent, _Slot]] = deque()
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="lianfang-audit-commit", daemon=True)
        self._thread.start()

    def record(self, event: AuditEvent) -> int:
        """Append ``event``; returns its sequence number once committed, or raises AuditUnavailable."""
        event.checked()  # a bad event fails its caller alone, not the batch it would join
        if self._closing:
            raise AuditUnavailable("the audit trail is shutting down; access refused")
        slot = _Slot()
        self._pending.append((event, slot))
        self._wake.set()
        if not slot.done.acquire(timeout=self.timeout_s):
            raise AuditUnavailable("the audit trail did not confirm the write in time; access refused")
        if slot.error is not None:
            raise slot.error
        return slot.seq

    def close(self) -> None:
        """Commit what is pending, then stop."""
        self._closing = True
        self._wake.set()
        self._thread.join()

    def _loop(self) -> None:
        pending = self._pending
        while True:
            self._wake.wait()
            self._wake.clear()
            while pending:
                batch = [pending.popleft() for _ in range(min(len(pending), self.max_batch))]
                self._commit(batch)
            if self._closing and not pending:
                return

    def _commit(self, batch: list[tuple[AuditEvent, _Slot]]) -> None:
        try:
            seqs = self.trail.append([e for e, _ in batch], checked=True)
        except BaseException as exc:
            error = exc if isinstance(exc, AuditUnavailable) else AuditUnavailable(str(exc))
            for _, slot in batch:
                slot.error = error
                slot.done.release()
        else:
            for (_, slot), seq in zip(batch, seqs, strict=True):
                slot.seq = seq
                slot.done.release()
        self.commits += 1
        self.events += len(batch)


__all__ = ["GENESIS", "AuditTrail", "AuditUnavailable", "GroupCommitter", "head", "link", "mac_key"]
