"""The chunk writer: one thread that owns every ingestion transaction of a file.

The caller's thread reads, transforms, hashes and encodes chunk *n + 1* while this
thread stores chunk *n*: the database drivers release the GIL while the database
works (SQLite inside ``sqlite3_step``, index maintenance and the commit's fsync;
psycopg while the server works), so on two cores the two overlap.

What stays as it was without the thread:

* **Whole chunks per transaction, in chunk order.** Only this thread writes; a
  chunk's records, quarantine entries, duplicate notes and the file checkpoint commit
  together, so ``kill -9`` at any point leaves the file's checkpoint exact. While the
  next chunk is already waiting (the producer is ahead), the transaction goes on with
  it, up to ``commit_rows`` records: on SQLite every commit writes each index page the
  transaction touched, and a chunk's keys (plates, devices) touch nearly all of them,
  so committing every 20,000 records rewrote the indexes fifty times per million.
  When the producer is the slower side the queue is empty after each chunk and each
  chunk commits at once, as before.
* **Cross-chunk duplicates** are found here, inside the chunk's transaction, so
  the search sees every earlier chunk: on SQLite the chunk is inserted with ``INSERT
  OR IGNORE`` and its keys are looked up only if a row was skipped; on PostgreSQL the
  keys are looked up first. Duplicates *within* a chunk were already set aside by
  the producer (it knows the chunk as a whole).
* **Errors surface in the caller**: :meth:`ChunkWriter.submit` and
  :meth:`ChunkWriter.close` re-raise what the thread raised; after an error the
  thread discards what is queued, so the producer never blocks on a dead writer.
* **Bounded memory**: the queue holds at most ``depth`` chunks (default 1, so at
  most three chunks exist at once: being built, queued, being written).
* **Lease**: each chunk's transaction refreshes the heartbeat of the file and of its
  batch (:mod:`.lease`), and writes the checkpoint only while the file row is still
  ``running`` under this batch; a file another run took over (after this one's
  heartbeat went stale) raises :class:`~lianfang.ingest.lease.LeaseLost` and the
  chunk rolls back whole.
* **Stored-rows hook**: a target may name ``on_stored``, called inside the chunk's
  transaction right after its new records are inserted (before the checkpoint), with
  the category, the column names and the rows as stored. Watch-list matching hangs
  here, so a hit commits together with the sighting that made it; ingestion itself
  knows nothing of watch lists.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, update

from lianfang.ingest.jobs import ChunkJob
from lianfang.ingest.lease import LeaseLost
from lianfang.ingest.results import FileResult
from lianfang.store.bulk import bulk_insert, select_existing_keys

#: ``(connection, category, columns, rows)``: called in the transaction that stored ``rows``.
StoredHook = Callable[[Connection, str, tuple[str, ...], Sequence[Sequence[Any]]], None]


@dataclass(frozen=True)
class Target:
    """Where a file's chunks go."""

    table: Table  # the category's record table
    columns: tuple[str, ...]  # of the encoded rows
    category: str
    file_id: int
    batch_id: int  # the run holding the file's lease
    batches: Table  # ingest_batch
    files: Table  # ingest_file
    quarantine: Table
    duplicates: Table  # ingest_duplicate
    on_stored: StoredHook | None = None


_STOP = None


class ChunkWriter:
    """Stores :class:`ChunkJob` s in submission order on a thread of its own."""

    def __init__(self, engine: Engine, target: Target, result: FileResult, depth: int = 1,
                 commit_rows: int = 200_000):
        self._engine = engine
        self._target = target
        self._result = result
        self._commit_rows = commit_rows
        # SQLite: insert first, look keys up only when something was skipped (see _insert_then_split)
        self._can_insert_first = engine.dialect.name == "sqlite"
        self._insert_first = self._can_insert_first
        # totals including chunks stored but not yet committed (the checkpoint's counters)
        self._staged = _Totals.of(result)
        self._queue: queue.Queue[ChunkJob | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self.committed_bytes = 0
        self._thread = threading.Thread(target=self._loop, name="lianfang-ingest-writer", daemon=True)
        self._thread.start()

    def submit(self, job: ChunkJob) -> None:
        """Queue a chunk (blocks while the queue is full); raises a writer error, if any."""
        self._raise()
        self._queue.put(job)

    def close(self, *, reraise: bool = True) -> None:
        """Store what is queued, stop the thread, then raise its error (if ``reraise``)."""
        self._queue.put(_STOP)
        self._thread.join()
        if reraise:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        conn: Connection | None = None
        staged: list[ChunkJob] = []  # stored in the open transaction, not yet committed
        rows = 0
        while (job := self._queue.get()) is not _STOP:
            if self._error is not None:
                continue  # drain: the producer learns of the error at its next submit
            try:
                if conn is None:
                    conn = self._engine.connect()
                    conn.begin()
                rows += self._store(conn, job)
                staged.append(job)
                if rows >= self._commit_rows or self._queue.empty():
                    self._commit(conn, staged)
                    conn, staged, rows = None, [], 0
            except BaseException as exc:
                self._error = exc
                self._abandon(conn)
                conn, staged, rows = None, [], 0
        if conn is not None:
            try:
                self._commit(conn, staged)
            except BaseException as exc:
                self._error = exc
                self._abandon(conn)

    def _commit(self, conn: Connection, staged: list[ChunkJob]) -> None:
        conn.commit()
        conn.close()
        self._staged.copy_to(self._result)
        self.committed_bytes = staged[-1].done_bytes

    def _abandon(self, conn: Connection | None) -> None:
        """Roll back what the open transaction stored: the checkpoint rolls back with it."""
        if conn is not None:
            try:
                conn.rollback()
                conn.close()
            except Exception:  # the error that brought us here is the one to report
                pass
        self._staged = _Totals.of(self._result)

    def _store(self, conn: Connection, job: ChunkJob) -> int:
        """Store one chunk in the open transaction; answers the records it stored."""
        t = self._target
        if self._insert_first and job.rows:
            rows, dupes = self._insert_then_split(conn, job)
        else:
            existing = select_existing_keys(conn, t.table.name, job.keys)
            rows, dupes = self._split(job, existing)
            if rows:
                bulk_insert(conn, t.table.name, t.columns, rows)
            self._insert_first = self._can_insert_first and not existing
        if rows and t.on_stored is not None:
            t.on_stored(conn, t.category, t.columns, rows)
        if job.quarantine:
            conn.execute(insert(t.quarantine), job.quarantine)
        if dupes:
            conn.execute(
                insert(t.duplicates),
                [
                    {
                        "file_id": t.file_id,
                        "position": position,
                        "category": t.category,
                        "original_id": original_id,
                        "raw_hash": raw_hash,
                        "exact": int(exact),
                    }
                    for position, raw_hash, original_id, exact in dupes
                ],
            )
        staged = self._staged
        staged.read += job.read
        staged.accepted += len(rows)
        staged.quarantined += len(job.quarantine)
        staged.duplicates += len(dupes)
        staged.by_reason.update(job.reasons)
        self._checkpoint(conn, job)
        return len(rows)

    def _insert_then_split(
        self, conn: Connection, job: ChunkJob
    ) -> tuple[list[Sequence[Any]], list[tuple[int, bytes, int | None, bool]]]:
        """Insert the whole chunk, skipping keys already stored; answers what :meth:`_split` does.

        SQLite only (``INSERT OR IGNORE``, whose count of inserted rows is exact). When
        every row went in, no key of the chunk was stored before and the look-up is
        saved. Otherwise the chunk's keys are looked up: a key held by a row this
        chunk did not insert (another file, position) makes a duplicate; a row that is
        in neither place was refused by the database and the chunk fails rather than
        lose it. The next chunk then looks up first, until a chunk finds nothing stored.
        """
        t = self._target
        inserted = bulk_insert(conn, t.table.name, t.columns, job.rows, or_ignore=True)
        if inserted == len(job.rows):
            return self._split(job, {})
        self._insert_first = False
        owners = select_existing_keys(conn, t.table.name, job.keys, lineage=True)
        ours = set(job.positions)
        existing = {
            key: (rid, raw_hash)
            for key, (rid, raw_hash, file_id, position) in owners.items()
            if not (file_id == t.file_id and position in ours)
        }
        rows, dupes = self._split(job, existing)
        if len(rows) != inserted:  # a row neither stored before nor now: refused (e.g. a NOT NULL column)
            raise RuntimeError(
                f"the database refused {len(rows) - inserted} record(s) of the chunk ending at record "
                f"{job.last_position}; nothing of the chunk was stored"
            )
        return rows, dupes

    def _split(
        self, job: ChunkJob, existing: dict[bytes, tuple[int, bytes]]
    ) -> tuple[list[Sequence[Any]], list[tuple[int, bytes, int | None, bool]]]:
        """Drop the rows whose key an earlier chunk (or file) stored (``existing``: key → id, raw hash);
        note every duplicate."""
        dupes: list[tuple[int, bytes, int | None, bool]] = []
        rows = job.rows
        if existing:
            rows = []
            for row, key, position, raw_hash in zip(
                job.rows, job.keys, job.positions, job.hashes, strict=True
            ):
                hit = existing.get(key)
                if hit is None:
                    rows.append(row)
                else:
                    dupes.append((position, raw_hash, hit[0], raw_hash == hit[1]))
        for position, raw_hash, key, first_hash in job.repeats:
            hit = existing.get(key)
            if hit is None:
                dupes.append((position, raw_hash, None, raw_hash == first_hash))
            else:
                dupes.append((position, raw_hash, hit[0], raw_hash == hit[1]))
        dupes.sort(key=lambda d: d[0])
        return rows, dupes

    def _checkpoint(self, conn: Connection, job: ChunkJob) -> None:
        staged = self._staged
        t = self._target
        now = int(time.time() * 1000)
        # batch row before file row: the order every ingestion transaction locks them in
        conn.execute(update(t.batches).where(t.batches.c.id == t.batch_id).values(heartbeat_at=now))
        held = conn.execute(
            update(t.files)
            .where(t.files.c.id == t.file_id, t.files.c.batch_id == t.batch_id, t.files.c.status == "running")
            .values(
                checkpoint=job.last_position,
                records_read=staged.read,
                accepted=staged.accepted,
                quarantined=staged.quarantined,
                duplicates=staged.duplicates,
                heartbeat_at=now,
            )
        )
        if held.rowcount != 1:
            raise LeaseLost(
                "another run took this file over after this run's heartbeat went stale; its records are kept there"
            )


@dataclass
class _Totals:
    """A file's running counts, as a :class:`FileResult` holds them."""

    read: int
    accepted: int
    quarantined: int
    duplicates: int
    by_reason: Counter[str]

    @classmethod
    def of(cls, res: FileResult) -> _Totals:
        return cls(res.read, res.accepted, res.quarantined, res.duplicates, Counter(res.by_reason))

    def copy_to(self, res: FileResult) -> None:
        res.read, res.accepted, res.quarantined, res.duplicates = (
            self.read, self.accepted, self.quarantined, self.duplicates)
        res.by_reason.clear()
        res.by_reason.update(self.by_reason)


__all__ = ["ChunkJob", "ChunkWriter", "StoredHook", "Target"]
