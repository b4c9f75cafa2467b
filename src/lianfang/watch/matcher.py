"""Matching newly stored sightings against the live watch lists, as they are stored.

:class:`WatchMatcher` is the ingestion's stored-rows hook
(:data:`lianfang.ingest.writer.StoredHook`): it runs inside the transaction that
stores a chunk (or one record retried from quarantine), so a hit commits together
with the sighting that made it, or not at all.

It keeps the live entries in memory as one dictionary per watched column — the plate
column by plate, each citizen-ID column by its blind index (digested per column, so a
person entry is digested once for each) — and costs one dictionary lookup per row and
watched column. Before each chunk it asks the database for a small version of the
active entries (count, newest id, last change) and reloads when it changed, so
entries added or removed by another process (the web server while the command line
ingests) are seen from the next chunk on. A row hits an entry when the entry is live
at that moment and the sighting's city is in the entry's scope.

On PostgreSQL the hit insert takes a transaction-level advisory lock, so transactions
that store hits commit in the order of their hit ids and a stream reading ``id > last``
never skips one that commits late; SQLite has a single writer anyway.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, func, insert, select, text

from lianfang.crypto import BlindIndex, FieldCipher
from lianfang.standard import Standard
from lianfang.store.schema import record_table_name
from lianfang.watch.entries import SUBJECT_PURPOSE
from lianfang.watch.model import ACTIVE, PERSON, PLATE, WATCHED_CATEGORY

#: pg_advisory_xact_lock key serialising hit-storing transactions ("lfwh").
HIT_LOCK = 0x6C667768
_TIME_FIELD = "passed_at"
_CITY_FIELD = "city_code"


@dataclass(frozen=True)
class _Watch:
    entry_id: int
    owner_id: int
    scope: frozenset[str]
    expires_at: int


def _now_ms() -> int:
    return int(time.time() * 1000)


#: (watched column position and its index, then the positions of city, time, dedup key, ingestion stamp)
_Layout = tuple[list[tuple[int, dict[Any, list[_Watch]]]], int, int, int, int]


class WatchMatcher:
    def __init__(self, metadata: MetaData, standard: Standard, cipher: FieldCipher, blind: BlindIndex,
                 clock: Callable[[], int] = _now_ms):
        self.clock = clock  # epoch ms: is an entry still live
        self.entries = metadata.tables["watch_entry"]
        self.hits = metadata.tables["watch_hit"]
        self.category = WATCHED_CATEGORY
        self.records = metadata.tables[record_table_name(self.category)]
        self.cipher = cipher
        self.blind = blind
        cat = standard.category(self.category)
        self.plate_columns = [f.name for f in cat.fields.values() if f.type == "plate" and not f.encrypted]
        self.person_fields = [f.name for f in cat.fields.values()
                              if f.type == "citizen_id" and f.encrypted and f.searchable]
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._index: dict[str, dict[Any, list[_Watch]]] = {}
        self._positions: dict[tuple[str, ...], _Layout] = {}
        self.matched = 0  # hits stored by this process (for the bench)

    def invalidate(self) -> None:
        """Entries changed in this process: reload before the next chunk."""
        with self._lock:
            self._version = None

    # -- the index -----------------------------------------------------------------------

    def _current(self, conn: Connection) -> dict[str, dict[Any, list[_Watch]]]:
        t = self.entries
        version = tuple(conn.execute(
            select(func.count(), func.max(t.c.id), func.max(t.c.changed_at)).where(t.c.status == ACTIVE)
        ).one())  # fmt: skip
        with self._lock:
            if version != self._version:
                self._index = self._load(conn)
                self._positions = {}
                self._version = version
            return self._index

    def _load(self, conn: Connection) -> dict[str, dict[Any, list[_Watch]]]:
        t = self.entries
        index: dict[str, dict[Any, list[_Watch]]] = {}
        rows = conn.execute(  # expiry is checked per row: an entry may expire while the index is kept
            select(t.c.id, t.c.owner_id, t.c.kind, t.c.subject_key, t.c.subject_enc, t.c.scope, t.c.expires_at)
            .where(t.c.status == ACTIVE)
        )
        for r in rows:
            w = _Watch(int(r.id), int(r.owner_id), frozenset(json.loads(r.scope)), int(r.expires_at))
            if r.kind == PLATE:
                for col in self.plate_columns:
                    index.setdefault(col, {}).setdefault(r.subject_key, []).append(w)
            elif r.kind == PERSON and r.subject_enc is not None:
                clear = self.cipher.decrypt(SUBJECT_PURPOSE, bytes(r.subject_enc))
                for name in self.person_fields:
                    digest = self.blind.digest(name, clear)
                    index.setdefault(f"{name}_bidx", {}).setdefault(digest, []).append(w)
        return index

    # -- the hook ------------------------------------------------------------------------

    def __call__(self, conn: Connection, category: str, columns: tuple[str, ...],
                 rows: Sequence[Sequence[Any]]) -> None:
        if category != self.category or not rows:
            return
        index = self._current(conn)
        if not index:
            return
        lookups, city_at, time_at, key_at, stamp_at = self._layout(columns, index)
        now = self.clock()
        found: list[tuple[int, _Watch]] = []
        for at, table in lookups:
            get = table.get
            for i, row in enumerate(rows):
                value = row[at]
                if value is None:
                    continue
                watches = get(value if value.__class__ is not memoryview else bytes(value))
                if watches:
                    city = row[city_at]
                    found.extend((i, w) for w in watches if now < w.expires_at and city in w.scope)
        if found:
            self._store(conn, rows, found, city_at, time_at, key_at, stamp_at, now)

    def _layout(self, columns: tuple[str, ...], index: dict[str, dict[Any, list[_Watch]]]) -> _Layout:
        cached = self._positions.get(columns)
        if cached is None:
            at = {c: i for i, c in enumerate(columns)}
            lookups = [(at[c], table) for c, table in index.items() if c in at]
            cached = (lookups, at[_CITY_FIELD], at[_TIME_FIELD], at["dedup_key"], at["ingested_at"])
            self._positions[columns] = cached
        return cached

    def _store(self, conn: Connection, rows: Sequence[Sequence[Any]], found: list[tuple[int, _Watch]],
               city_at: int, time_at: int, key_at: int, stamp_at: int, now: int) -> None:
        keys = {bytes(rows[i][key_at]) for i, _ in found}
        ids = {bytes(k): int(rid) for rid, k in conn.execute(
            select(self.records.c.id, self.records.c.dedup_key).where(self.records.c.dedup_key.in_(keys)))}
        values = []
        seen: set[tuple[int, int]] = set()
        for i, w in found:
            row = rows[i]
            rid = ids.get(bytes(row[key_at]))
            if rid is None or (w.entry_id, rid) in seen:
                continue
            seen.add((w.entry_id, rid))
            values.append({
                "entry_id": w.entry_id, "owner_id": w.owner_id, "category": self.category, "record_id": rid,
                "city_code": row[city_at], "at_ms": row[time_at], "ingested_at": int(row[stamp_at] or now),
                "created_at": now,
            })  # fmt: skip
        if not values:
            return
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": HIT_LOCK})
        conn.execute(insert(self.hits), values)
        self.matched += len(values)


__all__ = ["HIT_LOCK", "WatchMatcher"]
