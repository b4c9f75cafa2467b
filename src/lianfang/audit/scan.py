"""Checking one range of the trail: the per-record loop of ``lianfang audit verify``.

This module is what a verification worker process imports, so it stays light: the
standard library, the database driver and SM3. No SQLAlchemy (a worker opens its
connection with the driver, from the arguments the caller's engine would use), no
SM2, nothing of the rest of the package (:mod:`lianfang.audit` imports its names on
first use). A worker is checking records about 0.2 s sooner than with the whole
package imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lianfang.audit.event import GENESIS, canonical_sql
from lianfang.crypto.sm3 import hmac_sm3_pads, sm3_base


@dataclass(frozen=True)
class Problem:
    kind: str  # missing | broken_link | bad_mac | bad_signature | foreign_key | checkpoint_mismatch | truncated
    seq: int
    message: str
    last: int | None = None  # for "missing": the last missing sequence number


def missing(first: int, last: int) -> Problem:
    gap = f"{first}" if first == last else f"{first}–{last}"
    return Problem("missing", first, f"records {gap} are missing (deleted)", last)


@dataclass
class Scan:
    """What one range holds: its records, ends, last hash, problems and the hashes at wanted seqs."""

    records: int = 0
    first: int | None = None
    last: int | None = None
    last_hash: bytes | None = None
    problems: list[Problem] = field(default_factory=list)
    seen: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Connector:
    """How to open a driver connection to the trail's database in another process.

    ``args`` and ``kwargs`` are what SQLAlchemy's dialect passes to the driver
    (``dialect.create_connect_args(url)``); ``driver`` is ``sqlite3`` or ``psycopg``.
    """

    dialect: str
    driver: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def connect(self) -> Any:
        from importlib import import_module

        return import_module(self.driver).connect(*self.args, **self.kwargs)


# the database writes each record's canonical text, so one column crosses the driver, not sixteen
_SELECT = "SELECT seq, {canon}, hash, mac FROM audit_event WHERE seq >= {m} AND seq <= {m} ORDER BY seq"
_BEFORE = "SELECT hash FROM audit_event WHERE seq < {m} ORDER BY seq DESC LIMIT 1"


def _batches(dbapi: Any, dialect: str, sql: str, params: tuple[int, int], size: int) -> Iterator[list[Any]]:
    """The query's rows in lists of ``size``, straight from the driver (streamed on PostgreSQL)."""
    # PostgreSQL: a server-side cursor in binary format (bytea arrives as bytes, not hex to decode)
    pg = dialect == "postgresql"
    cur = dbapi.cursor(name="lianfang_verify", binary=True) if pg else dbapi.cursor()
    try:
        if pg:
            cur.itersize = size
        cur.execute(sql, params)
        while rows := cur.fetchmany(size):
            yield rows
    finally:
        cur.close()


def scan(dbapi: Any, dialect: str, key: bytes, lo: int, hi: int, prev: bytes | None, wanted: frozenset[int],
         progress: Callable[[int], None] | None = None, batch: int = 20_000, last_range: bool = True) -> Scan:
    """Check records lo..hi on a driver connection; ``prev`` is the hash before ``lo`` (looked up when None).

    A gap at the end of the last range is a truncation, which only checkpoints can show;
    at the end of any other range it is a gap like any other.
    """
    out = Scan()
    # hash contexts copied per record, inline: this loop runs once per record of the trail
    chain, (inner, outer) = sm3_base().copy, hmac_sm3_pads(key)
    inner_copy, outer_copy = inner.copy, outer.copy
    mark = "?" if dialect == "sqlite" else "%s"
    if prev is None:
        cur = dbapi.cursor()
        try:
            cur.execute(_BEFORE.format(m=mark), (lo,))
            before = cur.fetchone()
        finally:
            cur.close()
        prev = GENESIS if before is None else bytes(before[0])
    canon = canonical_sql(dialect)
    if mark == "%s":
        canon = canon.replace("%", "%%")  # the driver reads % as the start of a placeholder
    sql = _SELECT.format(m=mark, canon=canon)
    expected = lo
    problems = out.problems
    for rows in _batches(dbapi, dialect, sql, (lo, hi), batch):
        first_seq, last_seq = rows[0][0], rows[-1][0]
        if out.first is None:
            out.first = first_seq
        # seq is the key, so the rows are distinct and in order: the batch has no gap
        # (and none before it) exactly when its ends and its length agree
        if first_seq != expected or last_seq - first_seq + 1 != len(rows):
            for seq, *_ in rows:
                if seq != expected:
                    problems.append(missing(expected, seq - 1))
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
        problems.append(missing(expected, hi))  # the next range starts after hi
    out.last = expected - 1 if out.first is not None else None
    out.last_hash = bytes(prev)
    return out


class Claims:
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


def worker(connector: Connector, key: bytes, bounds: list[tuple[int, int]], start_hash: bytes,
           wanted: frozenset[int], claims: Any, results: Any) -> None:
    """A worker process: check ranges from the front until none is left; answers go to ``results``."""
    try:
        dbapi = connector.connect()
        try:
            while (i := claims.from_front()) is not None:
                lo, hi = bounds[i]
                results.put((i, scan(dbapi, connector.dialect, key, lo, hi, start_hash if i == 0 else None,
                                     wanted, last_range=i == len(bounds) - 1)))
        finally:
            dbapi.close()
    except BaseException as exc:  # told to the caller, which raises it
        results.put((-1, f"{type(exc).__name__}: {exc}"))


__all__ = ["Claims", "Connector", "Problem", "Scan", "missing", "scan", "worker"]
