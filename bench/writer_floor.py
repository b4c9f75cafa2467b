"""The SQLite writer floor: what storing sightings costs with no parsing at all.

Rows shaped like the ingestion writer's (the real ``rec_sighting`` table, built by
the project's migrations) go straight to the ``sqlite3`` driver as multi-row
INSERTs, one transaction per ``commit_rows`` rows, with ``synchronous=FULL`` and
WAL as in production. The variants separate the costs that bound ingestion:

* the table's live indexes, maintained row by row (what ingestion does today);
* the same with larger commits (WAL writes every dirty index page once per commit,
  and random-order index inserts dirty most leaf pages of each index per commit);
* no secondary indexes while loading, then ``CREATE INDEX`` (sort-based) afterwards;
* what ingestion does with a big file (:mod:`lianfang.store.indexes`): the unique key
  index stays live, the others are built at the end.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine

from lianfang.store.engine import migrate

COLUMNS = (
    "dedup_key", "classification", "kind", "device_id", "passed_at", "plate_no", "plate_type",
    "plate_color", "vehicle_color", "speed_kmh", "direction", "lane_no", "city_code",
    "file_id", "batch_id", "position", "source_record_id", "raw_hash", "ingested_at",
)  # fmt: skip


def _rows(n: int, seed: int = 1) -> list[tuple[object, ...]]:
    rnd = random.Random(seed)
    plates = [f"赣A{rnd.randrange(10**5):05d}" for _ in range(20_000)]
    base = 1_759_248_000_000
    rows: list[tuple[object, ...]] = []
    for i in range(n):
        device, plate = f"3602000000121{i % 400:07d}", plates[rnd.randrange(20_000)]
        lineage = (1, 1, i + 1, str(i), rnd.randbytes(32), base)
        key = ((base + i * 2000) // 60_000).to_bytes(5, "big") + rnd.randbytes(11)  # minute, then digest
        rows.append((key, "internal", "vehicle", device, base + i * 2000, plate, "02", "5", "3",
                     55.0, "1", 2, "360200", *lineage))
    return rows


def _fresh_store(path: Path) -> list[str]:
    """A migrated store; returns the CREATE texts of ``rec_sighting`` and of its indexes.

    Foreign keys stay off here (SQLite's default): checking them measured under 1%.
    """
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    con = sqlite3.connect(path, isolation_level=None)
    table = con.execute("SELECT sql FROM sqlite_master WHERE name = 'rec_sighting'").fetchone()[0]
    sql = [
        r[0]
        for r in con.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rec_sighting'")
        if r[0]
    ]
    con.close()
    return [table, *sql]


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA cache_size=-65536")
    return con


def _load(con: sqlite3.Connection, rows: list[tuple[object, ...]], commit_rows: int) -> None:
    per = 32_766 // len(COLUMNS)
    one = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    head = f"INSERT INTO rec_sighting ({', '.join(COLUMNS)}) VALUES "
    many = head + ", ".join([one] * per)
    for start in range(0, len(rows), commit_rows):
        chunk = rows[start : start + commit_rows]
        con.execute("BEGIN")
        full = len(chunk) // per * per
        for j in range(0, full, per):
            con.execute(many, [v for r in chunk[j : j + per] for v in r])
        con.executemany(head + one, chunk[full:])
        con.execute("COMMIT")


def _timed_load(con: sqlite3.Connection, rows: list[tuple[object, ...]], commit_rows: int,
                builds: list[str]) -> float:
    """Seconds to load ``rows``, then run ``builds`` (CREATE INDEX texts) in one transaction."""
    start = time.perf_counter()
    _load(con, rows, commit_rows)
    con.execute("BEGIN")
    for sql in builds:
        con.execute(sql)
    con.execute("COMMIT")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def live_indexes(path: Path, rows: list[tuple[object, ...]], commit_rows: int) -> float:
    _fresh_store(path)
    con = _connect(path)
    start = time.perf_counter()
    _load(con, rows, commit_rows)
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def deferred_indexes(path: Path, rows: list[tuple[object, ...]], commit_rows: int) -> float:
    table, *indexes = _fresh_store(path)
    con = _connect(path)
    # a bare table: the UNIQUE constraint's automatic index goes too, and comes back below
    con.execute("DROP TABLE rec_sighting")
    con.execute(re.sub(r",\s*CONSTRAINT \w+ UNIQUE \(dedup_key\)", "", table))
    unique = "CREATE UNIQUE INDEX uq_rec_sighting_dedup_key ON rec_sighting (dedup_key)"
    return _timed_load(con, rows, commit_rows, [unique, *indexes])


def as_ingestion_loads(path: Path, rows: list[tuple[object, ...]], commit_rows: int) -> float:
    """What a bulk load does now: the unique key index live, the secondary indexes built at the end."""
    _table, *indexes = _fresh_store(path)
    con = _connect(path)
    for sql in indexes:
        con.execute("DROP INDEX " + sql.split()[2])  # CREATE INDEX <name> ON …
    return _timed_load(con, rows, commit_rows, indexes)


def measure(n: int, workdir: Path, repeat: int = 1) -> list[tuple[str, float]]:
    """(variant, median seconds) for ``n`` sightings."""
    rows = _rows(n)
    path = workdir / "floor.db"
    variants: list[tuple[str, Callable[[], float]]] = [
        ("live indexes, commit every 20,000 rows (one chunk per transaction)",
         lambda: live_indexes(path, rows, 20_000)),
        ("live indexes, commit every 200,000 rows (as ingestion does while the producer is ahead)",
         lambda: live_indexes(path, rows, 200_000)),
        ("no index at all while loading, then CREATE INDEX", lambda: deferred_indexes(path, rows, 20_000)),
        ("as ingestion loads a big file: unique key index live, the secondary indexes built at the end, "
         "commit every 200,000 rows", lambda: as_ingestion_loads(path, rows, 200_000)),
    ]
    out = []
    for name, fn in variants:
        times = sorted(fn() for _ in range(repeat))
        out.append((name, times[len(times) // 2]))
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return out


if __name__ == "__main__":  # pragma: no cover - manual use
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, seconds in measure(int(os.environ.get("N", "1000000")), Path(tmp)):
            print(f"{name}: {seconds:.2f} s")
