"""``lianfang audit verify``: prove the trail is whole, or say exactly where it is not.

For every record:

* **no gap** — a missing sequence number is a deleted record;
* **the chain** — ``SM3(previous stored hash || canonical(seq, record))`` equals the
  stored hash: an edited, inserted or reordered record breaks it (each break is
  reported once; checking resumes from the stored hash, so one edit is one problem);
* **the MAC** — HMAC-SM3 of the hash under the key file's audit key: a record
  written by someone who can change the database but not read the key file (a
  recomputed chain after an insertion or a rewrite) fails here.

Then every signed checkpoint — those in the database and any exported ones passed
in — must carry a valid SM2 signature by the trail's key, and the stored hash at its
sequence number must be the one it signed; a checkpoint beyond the last record
means the trail was truncated or rolled back.

Because each record is checked against its predecessor's *stored* hash, records can
be checked in independent ranges: a long trail is split into ranges shared between
this process and worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select

from lianfang.audit.checkpoint import Checkpoint, signing_key
from lianfang.audit.event import canonical_sql
from lianfang.audit.trail import GENESIS, mac_key
from lianfang.crypto import KeyRing, hmac_sm3_pads, public_key_to_hex, sm3_base

#: Below this many records one process checks everything (a worker takes about half a second to start).
PARALLEL_MIN = 200_000


@dataclass(frozen=True)
class Problem:
    kind: str  # missing | broken_link | bad_mac | bad_signature | foreign_key | checkpoint_mismatch | truncated
    seq: int
    message: str
    last: int | None = None  # for "missing": the last missing sequence number


def _missing(first: int, last: int) -> Problem:
    gap = f"{first}" if first == last else f"{first}–{last}"
    return Problem("missing", first, f"records {gap} are missing (deleted)", last)


@dataclass
class VerifyReport:
    records: int = 0
    first_seq: int | None = None
    last_seq: int = 0
    head_hash: bytes = GENESIS
    checkpoints: int = 0
    workers: int = 1
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Scan:
    records: int = 0
    first: int | None = None
    last: int | None = None
    last_hash: bytes | None = None
    problems: list[Problem] = field(default_factory=list)
    seen: dict[int, bytes] = field(default_factory=dict)


# the database writes each record's canonical text, so one column crosses the driver, not sixteen
_SELECT = "SELECT seq, {canon}, hash, mac FROM audit_event WHERE seq >= {m} AND seq <= {m} ORDER BY seq"
_BEFORE = "SELECT hash FROM audit_event WHERE seq < {m} ORDER BY seq DESC LIMIT 1"
#: Records per range when a long trail is split between processes: small enough that the
#: processes finish together whoever started late, large enough that a range's query is cheap.
CHUNK = 20_000


def _batches(conn: Connection, sql: str, params: tuple[int, int], size: int) -> Iterator[list[Any]]:
    """The query's rows in lists of ``size``, straight from the driver (streamed on PostgreSQL)."""
    dbapi: Any = conn.connection.dbapi_connection
    # PostgreSQL: a server-side cursor in binary format (bytea arrives as bytes, not hex to decode)
    pg = conn.dialect.name == "postgresql"
    cur = dbapi.cursor(name="lianfang_verify", binary=True) if pg else dbapi.cursor()
    try:
        if pg:
            cur.itersize = size
        cur.execute(sql, params)
        while rows := cur.fetchmany(size):
            yield rows
    finally:
        cur.close()


def _scan(engine: Engine, key: bytes, lo: int, hi: int, prev: bytes | None, wanted: frozenset[int],
          progress: Callable[[int], None] | None = None, batch: int = 20_000, last_range: bool = True) -> _Scan:
    """Check records lo..hi; ``prev`` is the hash before ``lo`` (looked up when None).

    A gap at the end of the last range is a truncation, which only checkpoints can show;
    at the end of any other range it is a gap like any other.
    """
    out = _Scan()
    # hash contexts copied per record, inline: this loop runs once per record of the trail
    chain, (inner, outer) = sm3_base().copy, hmac_sm3_pads(key)
    inner_copy, outer_copy = inner.copy, outer.copy
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    with engine.connect() as conn:
        if prev is None:
            before = conn.exec_driver_sql(_BEFORE.format(m=mark), (lo,)).first()
            prev = GENESIS if before is None else bytes(before[0])
        canon = canonical_sql(engine.dialect.name)
        if mark == "%s":
            canon = canon.replace("%", "%%")  # the driver reads % as the start of a placeholder
        sql = _SELECT.format(m=mark, canon=canon)
        expected = lo
        problems = out.problems
        for rows in _batches(conn, sql, (lo, hi), batch):
            first_seq, last_seq = rows[0][0], rows[-1][0]
            if out.first is None:
                out.first = first_seq
            # seq is the key, so the rows are distinct and in order: the batch has no gap
            # (and none before it) exactly when its ends and its length agree
            if first_seq != expected or last_seq - first_seq + 1 != len(rows):
                for seq, *_ in rows:
                    if seq != expected:
                        problems.append(_missing(expected, seq - 1))
                    expected = seq + 1
            for seq, canon, stored, stored_mac in rows:
                h = chain()
                h.update(prev + canon)
                if h.digest() != stored:
                    problems.append(Problem(
                        "broken_link", seq,
                        f"record {seq} does not follow its predecessor: edited, inserted or reordered",
                    ))  # fmt: skip
                i = inner_copy()
                i.update(stored)
                o = outer_copy()
                o.update(i.digest())
                if o.digest() != stored_mac:
                    problems.append(
                        Problem("bad_mac", seq, f"record {seq} was not written by this trail (MAC does not verify)")
                    )
                prev = stored
            if wanted:
                for seq, _canon, stored, _mac in rows:
                    if seq in wanted:
                        out.seen[seq] = bytes(stored)
            expected = last_seq + 1
            out.records += len(rows)
            if progress is not None:
                progress(out.records)
        if not last_range and expected <= hi:
            problems.append(_missing(expected, hi))  # the next range starts after hi
        out.last = expected - 1 if out.first is not None else None
        out.last_hash = bytes(prev)
    return out


class _Claims:
    """Which ranges are taken: workers take them from the front, the calling process from the back.

    Shared between processes (two integers under one lock), so the processes finish
    within one range of each other however late a worker started.
    """

    def __init__(self, ctx: Any, count: int) -> None:
        self.lock = ctx.Lock()
        self.front = ctx.RawValue("q", 0)  # the next range from the front
        self.back = ctx.RawValue("q", count - 1)  # the next range from the back

    def from_front(self) -> int | None:
        with self.lock:
            i = self.front.value
            if i > self.back.value:
                return None
            self.front.value = i + 1
            return int(i)

    def from_back(self) -> int | None:
        with self.lock:
            i = self.back.value
            if i < self.front.value:
                return None
            self.back.value = i - 1
            return int(i)


def _worker(url: str, key: bytes, bounds: list[tuple[int, int]], start_hash: bytes, wanted: frozenset[int],
            claims: _Claims, results: Any) -> None:
    """A worker process: check ranges from the front until none is left; answers go to ``results``."""
    from lianfang.store.engine import make_engine

    try:
        engine = make_engine(url)
        try:
            while (i := claims.from_front()) is not None:
                lo, hi = bounds[i]
                results.put((i, _scan(engine, key, lo, hi, start_hash if i == 0 else None, wanted,
                                      last_range=i == len(bounds) - 1)))
        finally:
            engine.dispose()
    except BaseException as exc:  # told to the caller, which raises it
        results.put((-1, f"{type(exc).__name__}: {exc}"))


def _scan_ranges(engine: Engine, key: bytes, start_seq: int, start_hash: bytes, top: int,
                 wanted: frozenset[int], n: int, progress: Callable[[int], None] | None) -> list[_Scan]:
    """Check ``start_seq+1 .. top`` in ranges of :data:`CHUNK`, here and in ``n - 1`` worker processes."""
    bounds = [(lo, min(top, lo + CHUNK - 1)) for lo in range(start_seq + 1, top + 1, CHUNK)]
    last = len(bounds) - 1
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: safe beside the server's threads
    claims, results = _Claims(ctx, len(bounds)), ctx.SimpleQueue()
    url = engine.url.render_as_string(hide_password=False)
    procs = [
        ctx.Process(target=_worker, args=(url, key, bounds, start_hash, wanted, claims, results), daemon=True)
        for _ in range(n - 1)
    ]
    for p in procs:
        p.start()
    scans: dict[int, _Scan] = {}
    done = 0

    def took(i: int, scan: _Scan) -> None:
        nonlocal done
        scans[i] = scan
        done += scan.records
        if progress is not None:
            progress(done)

    try:
        # the first range starts from the purge anchor (or genesis); the others from the stored hash before them
        while (i := claims.from_back()) is not None:
            lo, hi = bounds[i]
            took(i, _scan(engine, key, lo, hi, start_hash if i == 0 else None, wanted, last_range=i == last))
        while len(scans) < len(bounds):
            if results.empty():
                if not any(p.is_alive() for p in procs) and results.empty():
                    raise RuntimeError("a verification worker process ended without answering")
                time.sleep(0.005)
                continue
            i, answer = results.get()
            if i < 0:
                raise RuntimeError(f"a verification worker failed: {answer}")
            took(i, answer)
    finally:
        for p in procs:
            if p.is_alive() and len(scans) < len(bounds):
                p.terminate()
    return [scans[i] for i in range(len(bounds))]


def verify_trail(
    engine: Engine,
    keyring: KeyRing,
    events: Table,
    checkpoints: Table,
    *,
    exported: Iterable[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> VerifyReport:
    report = VerifyReport()
    key = mac_key(keyring)
    trusted = public_key_to_hex(signing_key(keyring).public_key)
    with engine.connect() as conn:
        stored = [Checkpoint.from_row(r) for r in conn.execute(select(checkpoints).order_by(checkpoints.c.seq))]
    good: list[tuple[Checkpoint, str]] = []
    for cp, where in [(cp, "database") for cp in stored] + [(cp, "exported") for cp in exported]:
        report.checkpoints += 1
        if cp.public_key != trusted:
            report.problems.append(
                Problem("foreign_key", cp.seq, f"{where} checkpoint at {cp.seq} is signed by another key")
            )
        elif not cp.signature_ok():
            report.problems.append(Problem("bad_signature", cp.seq, f"{where} checkpoint at {cp.seq}: bad signature"))
        else:
            good.append((cp, where))
    anchors = [cp for cp, _ in good if cp.kind == "purge"]
    start_seq, start_hash = (anchors[-1].seq, anchors[-1].hash) if anchors else (0, GENESIS)
    wanted = frozenset(cp.seq for cp, _ in good if cp.seq > start_seq)
    with engine.connect() as conn:
        bottom, top = conn.execute(  # both from the primary key: no count over the whole trail
            select(func.min(events.c.seq), func.max(events.c.seq)).where(events.c.seq > start_seq)
        ).one()
    top = int(top or start_seq)
    n = workers or (os.cpu_count() or 1)
    if top - int(bottom or top) + 1 < PARALLEL_MIN or n <= 1 or engine.url.database in (None, "", ":memory:"):
        scans = [_scan(engine, key, start_seq + 1, top, start_hash, wanted, progress)]
    else:
        report.workers = n
        scans = _scan_ranges(engine, key, start_seq, start_hash, top, wanted, n, progress)
    seen: dict[int, bytes] = {}
    for s in scans:
        report.records += s.records
        for p in s.problems:
            prior = report.problems[-1] if report.problems else None
            if p.kind == "missing" and prior is not None and prior.kind == "missing" and prior.last == p.seq - 1:
                report.problems[-1] = _missing(prior.seq, p.last or p.seq)  # one gap across two ranges
            else:
                report.problems.append(p)
        seen.update(s.seen)
        if s.first is not None and report.first_seq is None:
            report.first_seq = s.first
        if s.last is not None:
            report.last_seq = s.last
            report.head_hash = s.last_hash or report.head_hash
    if report.first_seq is None:
        report.last_seq = start_seq
        report.head_hash = start_hash
    for cp, where in good:
        if cp.seq <= start_seq:
            continue  # before the retained part of the trail (purged)
        if cp.seq > report.last_seq:
            report.problems.append(Problem(
                "truncated", cp.seq,
                f"{where} checkpoint at {cp.seq} is beyond the last record {report.last_seq}: "
                "the trail was truncated or rolled back",
            ))  # fmt: skip
        elif seen.get(cp.seq) != cp.hash:
            report.problems.append(Problem(
                "checkpoint_mismatch", cp.seq,
                f"record {cp.seq} differs from the {where} checkpoint signed for it: history was rewritten",
            ))  # fmt: skip
    report.problems.sort(key=lambda p: (p.seq, p.kind))
    return report


__all__ = ["PARALLEL_MIN", "Problem", "VerifyReport", "verify_trail"]
