"""Appending to the audit trail: sequence numbers, the SM3 chain, durable commits.

``AuditTrail.append`` writes a batch of events in one transaction: each gets the
next sequence number, ``hash = SM3(previous hash || canonical(seq, event))`` and
``mac = HMAC-SM3(key, hash)``. Any failure raises :class:`AuditUnavailable` —
callers refuse the data access they were about to give (fail closed) — and is
reported to ``on_failure`` (the alarm hook).

``GroupCommitter`` lets many request threads share commits: each caller waits
until the batch holding its event is durable, so a caller never returns data
whose access is not yet on disk, while one fsync covers many events. A request
served on an event loop hands its event over with :meth:`GroupCommitter.submit`
and awaits the future it gets before it answers.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, event, select
from sqlalchemy.exc import IntegrityError, OperationalError

from lianfang.audit.event import CHAINED_COLUMNS, GENESIS, AuditEvent, canonical, canonical_values
from lianfang.crypto import KeyRing, hmac_sm3_keyed, sm3_digest, sm3_hasher

log = logging.getLogger(__name__)



_COLUMNS = ("seq", *CHAINED_COLUMNS, "hash", "mac")


#: After a collision with another process's appender on PostgreSQL, appends take the write lock
#: from the start for this long (a busy neighbour stays busy: trying without it first doubles the
#: round trips). Not on SQLite, where the database's writer lock already makes most tries succeed
#: and an exclusive batch costs four statements instead of one (two processes: 13,700 events/s
#: together with the window, 18,100–20,700 without).
CONTENDED_S = 1.0


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
        subjects: Callable[[AuditEvent], Sequence[str]] | None = None,
    ):
        self.engine = engine
        self.on_append = on_append  # told of every committed event, in order (the alarm rules)
        # the persons an event names, kept in audit_subject in the event's own transaction (the alarm
        # rules' index: a second writer beside the trail would contend with it for SQLite's one write lock)
        self.subjects = subjects
        self.collisions = 0  # inserts that met another appender's records (statistics)
        self._contended_until = 0.0  # monotonic time until which appends are exclusive from the start
        # the appenders use the driver directly: its errors arrive unwrapped by SQLAlchemy
        self._driver_integrity_error: type[Exception] = getattr(
            engine.dialect.loaded_dbapi, "IntegrityError", IntegrityError
        )
        # so do the SQLite appender's (a locked database is worth another try)
        self._driver_operational_error: type[Exception] = getattr(
            engine.dialect.loaded_dbapi, "OperationalError", OperationalError
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
        self._appender: _Appender = (
            _SqliteAppender(engine) if engine.dialect.name == "sqlite" else _PostgresAppender(engine)
        )
        # engine.dispose() closes every connection: the trail's own too (a later append opens another)
        event.listen(engine, "engine_disposed", _closing(weakref.ref(self)))

    def append(self, events: Sequence[AuditEvent], *, checked: bool = False) -> list[int]:
        """Store ``events`` durably, in order; return their sequence numbers.

        ``checked`` says the caller already ran :meth:`AuditEvent.checked` on each event.
        """
        if not events:
            return []
        rows = [(e if checked else e.checked()).values() for e in events]
        index = self._index_entries(events)
        with self._lock:
            # another appender was busy a moment ago: likely still, so skip the optimistic try
            exclusive = time.monotonic() < self._contended_until
            for attempt in range(20):
                try:
                    seqs, last = self._appender.write(self, rows, index, exclusive=exclusive)
                    self._head = last
                    if self.on_append is not None:
                        try:
                            self.on_append(list(zip(seqs, events, strict=True)))
                        except Exception:  # alarms must never undo a committed audit write
                            log.exception("audit append hook failed")
                    return seqs
                except (IntegrityError, OperationalError, self._driver_integrity_error,
                        self._driver_operational_error) as exc:
                    self._head = None
                    # another process appended between our read of the head and our insert: the
                    # next attempt holds the write lock from reading the head to committing
                    if attempt == 19 or not _retryable(exc, self._driver_integrity_error):
                        raise self._failed(exc) from exc
                    if _collided(exc, self._driver_integrity_error):
                        self.collisions += 1
                        exclusive = True
                        self._contended_until = time.monotonic() + self._appender.contended_s
                except Exception as exc:
                    self._head = None
                    raise self._failed(exc) from exc
        raise AssertionError("unreachable")

    def _index_entries(self, events: Sequence[AuditEvent]) -> list[tuple[int, str, int, int | None]]:
        """(position in the batch, subject, at_ms, user) for ``audit_subject``."""
        if self.subjects is None:
            return []
        return [(i, subject[:160], e.at_ms, e.user_id)
                for i, e in enumerate(events) for subject in dict.fromkeys(self.subjects(e))]

    def close(self) -> None:
        """Close the trail's own connection (a later append opens another)."""
        with self._lock:
            self._appender.close()

    def chain(self, prev: bytes, first: int, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The stored cells of ``rows`` numbered from ``first``, chained on from ``prev``."""
        cells = []
        sm3, mac = self._sm3, self._mac
        seq = first - 1
        for row in rows:
            seq += 1
            prev = sm3(prev + canonical_values((seq, *row)))
            cells.append((seq, *row, prev, mac(prev)))
        return cells

    def _failed(self, exc: BaseException) -> AuditUnavailable:
        log.critical("audit trail write failed: %s", type(exc).__name__)
        if self._on_failure is not None:
            try:
                self._on_failure(exc)
            except Exception:  # the alarm hook must not mask the refusal
                log.exception("audit failure hook raised")
        return AuditUnavailable("the audit trail cannot be written; access refused")


class _Appender:
    """Appends on a connection of the trail's own, in autocommit mode: one statement per batch.

    Every statement gives up the GIL and must win it back from the request threads that
    wait for their events; under load each such round trip waits behind all of them.
    Through the pool a batch took five or more (checkout ping or BEGIN, a lock, the
    insert in parts, COMMIT); here it is one INSERT statement (on SQLite while the batch names
    no person), which the database runs as a transaction of its own, as durable as a
    COMMIT. Appenders in other processes are kept apart by the primary key: a collision
    is retried once more, exclusively (:meth:`write`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._raw: Any = None
        self._closer: weakref.finalize[Any, Any] | None = None

    #: begins the exclusive transaction of a retry (see :meth:`write`)
    _lock_sql = ""

    @property
    def contended_s(self) -> float:
        """Seconds to append exclusively from the start after a collision."""
        return 0.0

    def _open(self, dbapi: Any) -> None:
        raise NotImplementedError

    def _store(self, dbapi: Any, cells: list[tuple[Any, ...]], entries: list[tuple[int, str, int, int | None]],
               *, exclusive: bool) -> None:
        """Store ``cells`` (``audit_event`` rows) and ``entries`` (``audit_subject`` rows) atomically, durably;
        ``exclusive``: inside the transaction :attr:`_lock_sql` began, which this commits."""
        raise NotImplementedError

    @staticmethod
    def _execute(dbapi: Any, sql: str) -> None:
        cur = dbapi.cursor()
        try:
            cur.execute(sql)
        finally:
            cur.close()

    def close(self) -> None:
        if self._raw is not None:
            self._raw = None
            if self._closer is not None:
                self._closer()  # closes the connection once, whoever asks first (this, or garbage collection)

    def write(self, trail: AuditTrail, rows: list[tuple[Any, ...]],
              index: list[tuple[int, str, int, int | None]], *, exclusive: bool = False
              ) -> tuple[list[int], tuple[int, bytes]]:
        """Chain ``rows`` on from the head and store them, with their ``index`` entries (see
        :meth:`AuditTrail._index_entries`) in the same transaction; ``exclusive``: under the table's
        write lock.

        Normally the head is the one this appender last wrote (deleting the newest records
        therefore shows as a gap, and costs no read). Another process's appender may have
        moved it meanwhile: the insert meets the primary key, and the retry is exclusive —
        it takes the write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a table lock that
        every insert waits for), reads the head and inserts after it, so it cannot collide
        again however busy the other appenders are. (With retries alone, an appender that
        kept losing the race refused its callers after 20 tries.)
        """
        try:
            if self._raw is None:
                raw = self.engine.raw_connection()
                raw.detach()  # the trail's own for as long as it works: it never goes back to the pool
                self._open(raw.dbapi_connection)
                self._raw = raw
                self._closer = weakref.finalize(self, _close_quietly, raw)
            dbapi = self._raw.dbapi_connection
            if exclusive:
                self._execute(dbapi, self._lock_sql)
                stored, known = self._read_head(dbapi, trail), trail._head
                # a stored head behind the one this appender wrote last means records it wrote are
                # gone: going on after what remains would hide that, so the chain goes on from its own
                trail._head = known if known is not None and known[0] >= stored[0] else stored
            elif trail._head is None:
                trail._head = self._read_head(dbapi, trail)
            seq, prev = trail._head
            cells = trail.chain(prev, seq + 1, rows)
            self._store(dbapi, cells, [(seq + 1 + i, subject, at, user) for i, subject, at, user in index],
                        exclusive=exclusive)
        except BaseException:
            self.close()  # a fresh connection next time, whatever went wrong with this one
            raise
        return list(range(seq + 1, seq + 1 + len(cells))), (cells[-1][0], cells[-1][-2])

    def _read_head(self, dbapi: Any, trail: AuditTrail) -> tuple[int, bytes]:
        cur = dbapi.cursor()
        try:
            cur.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
            last = cur.fetchone()
        finally:
            cur.close()
        if last is not None:
            return int(last[0]), bytes(last[1])
        with self.engine.connect() as conn:  # an empty table: the purge anchor, or genesis
            return head(conn, trail.events, trail.checkpoints)


def _close_quietly(raw: Any) -> None:
    try:
        raw.close()
    except Exception:  # closing a broken connection must not hide why it broke
        log.debug("closing the audit connection failed", exc_info=True)


class _SqliteAppender(_Appender):
    """One INSERT of a fixed number of rows (powers of two; the unused rows are NULL and
    filtered out), so the driver's statement cache stays small. Batches above the largest
    size, and batches with subject index rows, run in BEGIN IMMEDIATE … COMMIT."""

    _sizes: tuple[int, ...] = ()
    _lock_sql = "BEGIN IMMEDIATE"  # the database's write lock, taken now rather than at the insert

    def _open(self, dbapi: Any) -> None:
        dbapi.isolation_level = None  # autocommit: a statement is its own transaction
        limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if hasattr(dbapi, "getlimit") else 999
        most = min(1024, limit // len(_COLUMNS))
        self._sizes = tuple(1 << k for k in range(3, most.bit_length()) if 1 << k <= most)

    def _store(self, dbapi: Any, cells: list[tuple[Any, ...]], entries: list[tuple[int, str, int, int | None]],
               *, exclusive: bool) -> None:
        top = self._sizes[-1]
        if len(cells) <= top and not entries and not exclusive:
            self._padded(dbapi, cells)  # one statement: its own transaction
            return
        if not exclusive:
            dbapi.execute("BEGIN IMMEDIATE")
        # on failure write() closes the connection, which rolls the transaction back
        for i in range(0, len(cells), top):
            self._padded(dbapi, cells[i : i + top])
        if entries:
            dbapi.executemany(_INDEX_INSERT, entries)
        dbapi.execute("COMMIT")

    def _padded(self, dbapi: Any, cells: list[tuple[Any, ...]]) -> None:
        size = next(s for s in self._sizes if s >= len(cells))
        params = list(itertools.chain.from_iterable(cells))
        params.extend((None,) * (len(_COLUMNS) * (size - len(cells))))
        dbapi.execute(_padded_insert(size), params)


class _PostgresAppender(_Appender):
    """One INSERT statement in autocommit mode, its own transaction: the batch travels as one JSON
    parameter that the server turns into rows (``json_populate_recordset``), and the subject index rows
    ride in the same statement (a data-modifying ``WITH``). An exclusive retry: BEGIN, the table lock,
    the head, the statement, COMMIT.

    One round trip per batch matters more than the encoding: each wait for the server gives the
    interpreter to the request threads whose events were just committed, and the committer queues
    behind all of them to take it back. COPY took two round trips (the server acknowledges COPY
    before the data may follow) and BEGIN … COMMIT around a batch with index rows four; here it is
    one, and the client encodes less (measured in docs/access-and-audit.md).
    """

    # SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE lock every insert and COPY takes,
    # and with itself; readers (ACCESS SHARE) are not held up
    _lock_sql = "BEGIN; LOCK TABLE audit_event IN SHARE ROW EXCLUSIVE MODE"

    @property
    def contended_s(self) -> float:
        return CONTENDED_S

    def _open(self, dbapi: Any) -> None:
        dbapi.autocommit = True

    def _store(self, dbapi: Any, cells: list[tuple[Any, ...]], entries: list[tuple[int, str, int, int | None]],
               *, exclusive: bool) -> None:
        with dbapi.cursor() as cur:
            if entries:
                cur.execute(_PG_INSERT_WITH_INDEX, (_json_rows(_INDEX_KEYS, entries), _json_events(cells)),
                            prepare=True)
            else:
                cur.execute(_PG_INSERT, (_json_events(cells),), prepare=True)
            if exclusive:
                cur.execute("COMMIT")


_INDEX_KEYS = ("seq", "subject", "at_ms", "user_id")
_INDEX_INSERT = f"INSERT INTO audit_subject ({', '.join(_INDEX_KEYS)}) VALUES (?, ?, ?, ?)"


def _rows_from(table: str, columns: Sequence[str], param: str) -> str:
    names = ", ".join(columns)
    return f"INSERT INTO {table} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table}, {param})"


_PG_INSERT = _rows_from("audit_event", _COLUMNS, "%s::json")
_PG_INSERT_WITH_INDEX = f"WITH subjects AS ({_rows_from('audit_subject', _INDEX_KEYS, '%s::json')}) {_PG_INSERT}"


def _json_rows(keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """``rows`` as a JSON array of objects keyed by column, for ``json_populate_recordset``."""
    return orjson.dumps([dict(zip(keys, row, strict=True)) for row in rows]).decode()


def _json_events(cells: list[tuple[Any, ...]]) -> str:
    """:func:`_json_rows` of ``audit_event`` cells, the hash and the MAC as ``bytea`` hex text."""
    return _json_rows(_COLUMNS, [(*c[:-2], "\\x" + c[-2].hex(), "\\x" + c[-1].hex()) for c in cells])


def _closing(trail: weakref.ref[AuditTrail]) -> Callable[[Engine], None]:
    def on_dispose(_engine: Engine) -> None:
        live = trail()
        if live is not None:
            live.close()

    return on_dispose


@functools.cache
def _padded_insert(rows: int) -> str:
    row = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return (
        f"INSERT INTO audit_event ({', '.join(_COLUMNS)}) "
        f"SELECT * FROM (VALUES {', '.join([row] * rows)}) WHERE column1 IS NOT NULL"
    )


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


def _collided(exc: BaseException, driver_integrity_error: type[Exception]) -> bool:
    """Whether the insert met a record another appender stored first (not a locked or busy database)."""
    return isinstance(exc, IntegrityError | driver_integrity_error)


def _retryable(exc: BaseException, driver_integrity_error: type[Exception]) -> bool:
    if _collided(exc, driver_integrity_error):
        return True
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


class _Slot:
    """Where the committer leaves a caller's answer; ``done`` is released once it is there.

    Each thread keeps its slot: after the caller's acquire, ``done`` is held again,
    ready for the thread's next event.
    """

    __slots__ = ("done", "error", "seq")

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.seq = 0
        self.error: BaseException | None = None


class _LoopSlot:
    """Where the committer leaves the answer for a caller on an event loop: a future of that loop."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[int] = loop.create_future()


def _settle(answers: list[tuple[asyncio.Future[int], int, BaseException | None]]) -> None:
    """On the loop: resolve the futures of one batch (one wake-up of the loop per batch, not per event)."""
    for future, seq, error in answers:
        if future.done():  # the caller gave up waiting
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(seq)


class GroupCommitter:
    """Shares commits between concurrent callers; :meth:`record` returns once durable.

    Callers append to a deque and wake the committer with an event (cheaper than a
    queue's condition per item) when it is not already awake; the committer clears the
    event before it takes everything pending, up to ``max_batch`` per transaction, and
    releases each caller's lock with its answer.
    """

    def __init__(self, trail: AuditTrail, *, max_batch: int = 2000, timeout_s: float = 30.0):
        self.trail = trail
        self.max_batch = max_batch
        self.timeout_s = timeout_s
        self.commits = 0  # transactions written (statistics)
        self.events = 0
        self._pending: deque[tuple[AuditEvent, _Slot | _LoopSlot]] = deque()
        self._wake = threading.Event()
        self._wake_due: set[asyncio.AbstractEventLoop] = set()  # loops that will wake the committer this round
        self._slots = threading.local()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="lianfang-audit-commit", daemon=True)
        self._thread.start()

    def record(self, event: AuditEvent) -> int:
        """Append ``event``; returns its sequence number once committed, or raises AuditUnavailable."""
        event.checked()  # a bad event fails its caller alone, not the batch it would join
        if self._closing:
            raise AuditUnavailable("the audit trail is shutting down; access refused")
        slot = getattr(self._slots, "slot", None)
        if slot is None:
            slot = self._slots.slot = _Slot()
        slot.error = None
        self._pending.append((event, slot))
        if not self._wake.is_set():  # the committer is (about to be) asleep: one wake-up per batch, not per event
            self._wake.set()
        if not slot.done.acquire(timeout=self.timeout_s):
            self._slots.slot = None  # the committer may still answer this one: never reuse it
            raise AuditUnavailable("the audit trail did not confirm the write in time; access refused")
        if slot.error is not None:
            raise slot.error
        return slot.seq

    def submit(self, event: AuditEvent, loop: asyncio.AbstractEventLoop) -> asyncio.Future[int]:
        """Hand ``event`` over without waiting; call on ``loop``'s thread. The future gets the event's sequence
        number once committed, or :class:`AuditUnavailable`; whoever returns data awaits it first."""
        event.checked()
        if self._closing:
            raise AuditUnavailable("the audit trail is shutting down; access refused")
        slot = _LoopSlot(loop)
        self._pending.append((event, slot))
        if loop not in self._wake_due and not self._wake.is_set():
            # one wake-up at the end of the loop's current round, not one per event: the answers of this
            # round go out only after it anyway, and the committer woken early would take the interpreter
            # from the loop to write one event at a time
            self._wake_due.add(loop)
            loop.call_soon(self._wake_for, loop)
        return slot.future

    def _wake_for(self, loop: asyncio.AbstractEventLoop) -> None:
        self._wake_due.discard(loop)
        self._wake.set()

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

    def _commit(self, batch: list[tuple[AuditEvent, _Slot | _LoopSlot]]) -> None:
        error: BaseException | None = None
        try:
            seqs = self.trail.append([e for e, _ in batch], checked=True)
        except BaseException as exc:
            error = exc if isinstance(exc, AuditUnavailable) else AuditUnavailable(str(exc))
            seqs = [0] * len(batch)
        loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int, BaseException | None]]] = {}
        for (_, slot), seq in zip(batch, seqs, strict=True):
            if isinstance(slot, _Slot):
                slot.seq = seq
                slot.error = error
                slot.done.release()
            else:
                loops.setdefault(slot.loop, []).append((slot.future, seq, error))
        for loop, answers in loops.items():
            try:
                loop.call_soon_threadsafe(_settle, answers)
            except RuntimeError:  # the loop is closed: nobody waits for these any more
                log.debug("audit answers for a closed event loop dropped")
        self.commits += 1
        self.events += len(batch)


__all__ = ["GENESIS", "AuditTrail", "AuditUnavailable", "GroupCommitter", "head", "link", "mac_key"]
