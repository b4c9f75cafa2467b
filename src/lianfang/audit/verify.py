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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, Table, func, select

from lianfang.audit.checkpoint import Checkpoint, signing_key
from lianfang.audit.event import GENESIS
from lianfang.audit.scan import Claims, Connector, Problem, Scan, missing, scan, worker
from lianfang.audit.trail import mac_key
from lianfang.crypto import KeyRing, public_key_to_hex

#: Below this many records one process checks everything (a worker takes a moment to start).
PARALLEL_MIN = 200_000
#: Records per range when a long trail is split between processes: small enough that the
#: processes finish together whoever started late, large enough that a range's query is cheap.
CHUNK = 20_000


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


def _scan(engine: Engine, key: bytes, lo: int, hi: int, prev: bytes | None, wanted: frozenset[int],
          progress: Callable[[int], None] | None = None, batch: int = 20_000, last_range: bool = True) -> Scan:
    """:func:`lianfang.audit.scan.scan` on a driver connection from ``engine``'s pool."""
    dbapi = engine.raw_connection()
    try:
        return scan(dbapi.driver_connection, engine.dialect.name, key, lo, hi, prev, wanted, progress, batch,
                    last_range)
    finally:
        dbapi.close()  # back to the pool, its transaction rolled back


def _connector(engine: Engine) -> Connector:
    """The driver's connect arguments for ``engine``'s database (SQLAlchemy's own adapters left out).

    The worker reads ``bytea`` and integers only, which the driver's defaults handle.
    """
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    plain = {k: v for k, v in kwargs.items() if isinstance(v, str | int | float | bool)}
    driver = "sqlite3" if engine.dialect.name == "sqlite" else engine.dialect.driver
    return Connector(engine.dialect.name, driver, tuple(args), plain)


def _scan_ranges(engine: Engine, key: bytes, start_seq: int, start_hash: bytes, top: int,
                 wanted: frozenset[int], n: int, progress: Callable[[int], None] | None) -> list[Scan]:
    """Check ``start_seq+1 .. top`` in ranges of :data:`CHUNK`, here and in ``n - 1`` worker processes."""
    bounds = [(lo, min(top, lo + CHUNK - 1)) for lo in range(start_seq + 1, top + 1, CHUNK)]
    last = len(bounds) - 1
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: safe beside the server's threads
    claims, results = Claims(ctx, len(bounds)), ctx.SimpleQueue()
    connector = _connector(engine)
    procs = [
        ctx.Process(target=worker, args=(connector, key, bounds, start_hash, wanted, claims, results), daemon=True)
        for _ in range(n - 1)
    ]
    for p in procs:
        p.start()
    scans: dict[int, Scan] = {}
    done = 0

    def took(i: int, result: Scan) -> None:
        nonlocal done
        scans[i] = result
        done += result.records
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
                report.problems[-1] = missing(prior.seq, p.last or p.seq)  # one gap across two ranges
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
