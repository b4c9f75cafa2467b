"""Ingestion: stream files through parse → map → normalise → validate → store or quarantine.

Guarantees (tested): per file, accepted + quarantined + duplicates = records read;
ingesting the same bytes twice stores nothing new; a process killed at any point
and run again ends with no loss and no duplicates, because each chunk's records,
quarantine entries, duplicate notes and the file's checkpoint commit in one
transaction.

Leases (:mod:`.lease`): a run holds its batch and each file it is ingesting, naming
itself (``host:pid``) and refreshing a heartbeat with every committed chunk. A second
run of a file whose holder is alive answers ``busy`` and touches nothing; a file
whose holder is dead is taken over and resumed after its checkpoint, and the dead
run's batch becomes ``interrupted``. Batch listings call
:meth:`Ingestor.reconcile_batches` first, so a run that died shows as
``interrupted`` even before anyone resumes its files.
"""

from __future__ import annotations

import contextlib
import fnmatch
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, MetaData, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lianfang.crypto import BlindIndex, FieldCipher, KeyRing
from lianfang.ingest.chunks import ChunkBuilder, now_ms, read_chunks
from lianfang.ingest.collector import CollectorPause
from lianfang.ingest.lease import LeaseLost, current_owner, describe, holder_alive
from lianfang.ingest.mapping import Feed, Mapping, MappingError, find_feed
from lianfang.ingest.parallel import FileWork, ParallelChunks, auto_workers
from lianfang.ingest.readers import HostileInput, Limits, check_file
from lianfang.ingest.results import BatchResult, FileResult
from lianfang.ingest.transform import Transformer
from lianfang.ingest.writer import ChunkJob, ChunkWriter, StoredHook, Target
from lianfang.settings import Settings
from lianfang.standard import Standard
from lianfang.store.codec import RecordCodec
from lianfang.store.indexes import OnIndex, restore, set_aside, worth_deferring
from lianfang.store.mapping_registry import register_mapping
from lianfang.store.schema import build_metadata, record_table_name

LINEAGE_COLUMNS = (
    "dedup_key",
    "classification",
    "file_id",
    "batch_id",
    "position",
    "raw_hash",
    "ingested_at",
    "source_record_id",
)

# (file name, bytes done, bytes total) — drives the CLI's Rich progress bar.
Progress = Callable[[str, int, int], None]

#: What a file row left ``running`` by a dead run says once its batch reads interrupted.
INTERRUPTED_FILE = "interrupted: the run that held it stopped; ingest the same file again to resume"


def _same(column: ColumnElement[int], value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def file_digest(path: Path) -> str:
    """SM3 of the file's bytes, streamed: the file's identity for idempotency and resume."""
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(hashes.SM3())
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.finalize().hex()


@dataclass
class _FileState:
    file_id: int
    batch_id: int
    result: FileResult


class Ingestor:
    """One ingestion run over one database; build it once, call :meth:`ingest` per batch."""

    def __init__(
        self,
        *,
        engine: Engine,
        standard: Standard,
        keyring: KeyRing,
        settings: Settings,
        mappings: Iterable[Mapping],
        now: datetime | None = None,
        on_stored: StoredHook | None = None,
        metadata: MetaData | None = None,
    ):
        """``on_stored``: called in each transaction that stores new records (see :mod:`.writer`);
        ``metadata``: the platform's tables, if it has built them (else built here from ``standard``)."""
        self.engine = engine
        self.on_stored = on_stored
        self.standard = standard
        self.settings = settings
        self.mappings = list(mappings)
        self.tz = ZoneInfo(settings.timezone)
        self.now = now
        self.keyring = keyring
        self.cipher = FieldCipher(keyring)
        self.blind = BlindIndex(keyring)
        self.metadata = metadata if metadata is not None else build_metadata(standard)
        self.limits = Limits(
            max_file_bytes=settings.max_file_bytes,
            max_xlsx_uncompressed_bytes=settings.max_xlsx_uncompressed_bytes,
            max_xlsx_ratio=settings.max_xlsx_ratio,
        )
        self._codecs: dict[str, RecordCodec] = {}
        #: told of each secondary index as it is built (the CLI prints it)
        self.on_index: OnIndex | None = None

    def table(self, name: str) -> Table:
        return self.metadata.tables[name]

    def codec(self, category: str) -> RecordCodec:
        if category not in self._codecs:
            self._codecs[category] = RecordCodec(self.standard.category(category), self.cipher, self.blind)
        return self._codecs[category]

    # -- batches -----------------------------------------------------------------

    def start_batch(self, origin: str) -> int:
        now = now_ms()
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(self.table("ingest_batch")).values(
                    origin=origin,
                    started_at=now,
                    status="running",  # counters start at their column default, 0
                    owner=current_owner(),
                    heartbeat_at=now,
                )
            )
            return int(res.inserted_primary_key[0])  # type: ignore[index]

    def finish_batch(self, result: BatchResult, started: float) -> None:
        result.seconds = time.perf_counter() - started
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table("ingest_batch"))
                .where(self.table("ingest_batch").c.id == result.batch_id)
                .values(
                    finished_at=now_ms(),
                    status="done" if result.ok else "failed",
                    files=len(result.files),
                    records_read=result.total("read"),
                    accepted=result.total("accepted"),
                    quarantined=result.total("quarantined"),
                    duplicates=result.total("duplicates"),
                )
            )

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        mapping: Mapping | None = None,
        origin: str = "cli",
        progress: Progress | None = None,
    ) -> BatchResult:
        started = time.perf_counter()
        result = BatchResult(batch_id=self.start_batch(origin))
        try:
            for path, name, explicit in expand_paths(paths):
                if not explicit and mapping is None and not self._has_feed(path):
                    continue  # a directory walk ignores files no mapping claims (manifests, maps)
                result.files.append(
                    self.ingest_file(path, result.batch_id, mapping=mapping, progress=progress, display_name=name)
                )
        except BaseException:
            # Ctrl-C or an unexpected error: give the batch and its file up now, so nobody
            # waits for the lease to go stale (best effort: the database may be the cause)
            with contextlib.suppress(Exception), self.engine.begin() as conn:
                self._interrupt(conn, result.batch_id, now_ms())
            raise
        self.finish_batch(result, started)
        return result

    # -- leases ------------------------------------------------------------------

    @property
    def lease_stale_ms(self) -> int:
        return int(self.settings.ingest_lease_stale_s * 1000)

    def _alive(self, owner: str | None, heartbeat_at: int | None, now: int) -> bool:
        return holder_alive(owner, heartbeat_at, now_ms=now, stale_ms=self.lease_stale_ms)

    def reconcile_batches(self) -> list[int]:
        """Store ``interrupted`` for every ``running`` batch whose holder is dead; answers their ids.

        Reconciled lazily, on read: whatever shows batches (``GET /api/v1/batches``,
        ``GET /api/v1/batches/{id}``) calls this first, so a run killed with ``kill -9``
        reads ``interrupted`` (``finished_at`` = when that was established) without
        anyone resuming it. Its files still ``running`` become ``failed`` with
        :data:`INTERRUPTED_FILE`; they resume after their checkpoint like any failed
        file. Cheap: one indexed look-up of the running batches (only the live runs,
        normally), and writes only for the dead ones. Each write is conditional on the
        heartbeat read, so a holder that beats meanwhile keeps its batch.
        """
        b = self.table("ingest_batch")
        now = now_ms()
        with self.engine.connect() as conn:
            running = conn.execute(
                select(b.c.id, b.c.owner, b.c.heartbeat_at).where(b.c.status == "running")
            ).all()
        dead = [r for r in running if not self._alive(r.owner, r.heartbeat_at, now)]
        marked = []
        for r in dead:
            with self.engine.begin() as conn:
                if self._interrupt(conn, int(r.id), now, heartbeat_at=r.heartbeat_at, check_heartbeat=True):
                    marked.append(int(r.id))
        return marked

    def restore_indexes(self) -> list[str]:
        """Build the secondary indexes a bulk load set aside and did not get to build (its run died).

        Called where work starts (``lianfang ingest``, ``lianfang serve``), not per
        batch: an API push should not pay for looking. Tables a live run is loading
        right now are left to that run (see :mod:`lianfang.store.indexes`). Answers
        the names of the indexes built.
        """
        f = self.table("ingest_file")
        now = now_ms()
        with self.engine.connect() as conn:
            running = conn.execute(
                select(f.c.category, f.c.owner, f.c.heartbeat_at).where(f.c.status == "running")
            ).all()
        loading = {r.category for r in running if self._alive(r.owner, r.heartbeat_at, now)}
        tables = [
            self.table(record_table_name(name))
            for name in self.standard.categories
            if name not in loading and record_table_name(name) in self.metadata.tables
        ]
        return restore(self.engine, tables, self.on_index)

    def _interrupt(
        self,
        conn: Connection,
        batch_id: int,
        now: int,
        *,
        heartbeat_at: int | None = None,
        check_heartbeat: bool = False,
        keep_file: int | None = None,
    ) -> bool:
        """Mark a ``running`` batch ``interrupted`` (and its running files failed); False if it was not running.

        Its counters become the sums over the files it holds at that moment, counted the
        way a finished batch counts a resumed file (from the file's first record).
        ``keep_file``: a file being taken over in the same transaction, left as it is.
        """
        b, f = self.table("ingest_batch"), self.table("ingest_file")
        totals = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(f.c.records_read), 0),
                func.coalesce(func.sum(f.c.accepted), 0),
                func.coalesce(func.sum(f.c.quarantined), 0),
                func.coalesce(func.sum(f.c.duplicates), 0),
            ).where(f.c.batch_id == batch_id)
        ).one()
        where = [b.c.id == batch_id, b.c.status == "running"]
        if check_heartbeat:
            where.append(_same(b.c.heartbeat_at, heartbeat_at))
        done = conn.execute(
            update(b)
            .where(*where)
            .values(
                status="interrupted",
                finished_at=now,
                files=int(totals[0]),
                records_read=int(totals[1]),
                accepted=int(totals[2]),
                quarantined=int(totals[3]),
                duplicates=int(totals[4]),
            )
        )
        if done.rowcount != 1:
            return False
        stuck = [f.c.batch_id == batch_id, f.c.status == "running"]
        if keep_file is not None:
            stuck.append(f.c.id != keep_file)
        conn.execute(update(f).where(*stuck).values(status="failed", error=INTERRUPTED_FILE, finished_at=now))
        return True

    def _beat(self, state: _FileState) -> None:
        """Refresh the heartbeat of the batch and the file (resume re-reads records without committing)."""
        b, f = self.table("ingest_batch"), self.table("ingest_file")
        now = now_ms()
        with self.engine.begin() as conn:
            conn.execute(update(b).where(b.c.id == state.batch_id).values(heartbeat_at=now))
            held = conn.execute(
                update(f)
                .where(f.c.id == state.file_id, f.c.batch_id == state.batch_id, f.c.status == "running")
                .values(heartbeat_at=now)
            )
            if held.rowcount != 1:
                raise LeaseLost("another run took this file over after this run's heartbeat went stale")

    # -- files -------------------------------------------------------------------

    def ingest_file(
        self,
        path: Path,
        batch_id: int,
        *,
        mapping: Mapping | None = None,
        progress: Progress | None = None,
        display_name: str | None = None,
    ) -> FileResult:
        name = display_name or path.name
        started = time.perf_counter()
        try:
            check_file(path, self.limits)
            owner, feed = self._feed_for(path, mapping)
        except HostileInput as exc:
            return FileResult(name=name, status="refused", error=str(exc), reason=exc.reason)
        except MappingError as exc:
            return FileResult(name=name, status="failed", error=str(exc), reason="mapping")
        size = path.stat().st_size
        workers = self._workers_for(size)
        # started now, the workers import while the file is hashed and claimed (they wait for it)
        parallel = ParallelChunks(workers) if workers else None
        try:
            return self._claim_and_run(path, name, size, owner, feed, batch_id, progress, parallel, started)
        finally:
            if parallel is not None:
                parallel.close()  # a file skipped, refused or failed early: the workers go unused

    def _claim_and_run(
        self,
        path: Path,
        name: str,
        size: int,
        owner: Mapping,
        feed: Feed,
        batch_id: int,
        progress: Progress | None,
        parallel: ParallelChunks | None,
        started: float,
    ) -> FileResult:
        state = self._open_file_state(path, name, size, owner, feed, batch_id)
        res = state.result
        if res.status in ("skipped", "failed"):
            return res
        transformer = Transformer(feed, self.standard, tz=self.tz, now=self.now)
        try:
            self._run(path, owner, feed, transformer, state, size, progress, parallel)
        except HostileInput as exc:
            res.status, res.error, res.reason = "refused", str(exc), exc.reason
        except MappingError as exc:
            res.status, res.error, res.reason = "failed", str(exc), "mapping"
        except LeaseLost as exc:
            res.status, res.error, res.reason = "failed", str(exc), "busy"
            res.seconds = time.perf_counter() - started
            return res  # the file row is the other run's now
        res.seconds = time.perf_counter() - started
        if not self._close_file_state(state):
            res.status, res.reason = "failed", "busy"
            res.error = "another run took this file over after this run's heartbeat went stale"
        return res

    def _has_feed(self, path: Path) -> bool:
        return any(f.matches(path) for m in self.mappings for f in m.feeds)

    def _feed_for(self, path: Path, mapping: Mapping | None) -> tuple[Mapping, Feed]:
        if mapping is None:
            return find_feed(self.mappings, path)
        if len(mapping.feeds) == 1:
            return mapping, mapping.feeds[0]
        by_name = [f for f in mapping.feeds if fnmatch.fnmatchcase(path.name, PurePosixPath(f.match).name)]
        if len(by_name) == 1:  # pushed files arrive without their export folder
            return mapping, by_name[0]
        return find_feed([mapping], path)

    def _open_file_state(
        self, path: Path, name: str, size: int, owner: Mapping, feed: Feed, batch_id: int
    ) -> _FileState:
        try:
            return self._claim_file(path, name, size, owner, feed, batch_id)
        except IntegrityError:
            # another process registered the same bytes between our lookup and insert
            res = FileResult(
                name=name,
                status="failed",
                category=feed.category,
                city_code=owner.city,
                mapping=owner.ref,
                reason="busy",
                error="the same file is being ingested by another process; run again when it ends",
            )
            return _FileState(0, batch_id, res)

    def _claim_file(self, path: Path, name: str, size: int, owner: Mapping, feed: Feed, batch_id: int) -> _FileState:
        digest = file_digest(path)
        files, batches = self.table("ingest_file"), self.table("ingest_batch")
        me, now = current_owner(), now_ms()
        res = FileResult(
            name=name,
            status="done",
            category=feed.category,
            city_code=owner.city,
            mapping=owner.ref,
        )
        with self.engine.begin() as conn:
            row = conn.execute(select(files).where(files.c.content_hash == digest)).mappings().first()
            if row is None:
                register_mapping(
                    conn, self.table("source_mapping"), mapping_id=owner.id, version=owner.version, text=owner.text
                )
                ins = conn.execute(
                    insert(files).values(
                        content_hash=digest,
                        batch_id=batch_id,
                        name=name[:255],
                        size=size,
                        mapping_id=owner.id,
                        mapping_version=owner.version,
                        city_code=owner.city,
                        system=owner.system,
                        category=feed.category,
                        status="running",  # checkpoint and counters start at their default, 0
                        started_at=now,
                        owner=me,
                        heartbeat_at=now,
                    )
                )
                res.file_id = int(ins.inserted_primary_key[0])  # type: ignore[index]
                conn.execute(update(batches).where(batches.c.id == batch_id).values(heartbeat_at=now))
                return _FileState(res.file_id, batch_id, res)
            res.file_id = int(row["id"])
            if row["status"] == "done":
                res.status = "skipped"
                res.error = "already ingested (same content)"
                return _FileState(res.file_id, batch_id, res)
            held = row["status"] == "running"
            if held and self._alive(row["owner"], row["heartbeat_at"], now):
                # a live run is ingesting these bytes right now: leave everything to it
                res.status, res.reason = "failed", "busy"
                holder = describe(row["owner"], row["heartbeat_at"], now_ms=now)
                res.error = f"the same file is being ingested by another run ({holder}); run again when it ends"
                return _FileState(res.file_id, batch_id, res)
            if int(row["checkpoint"]) > 0 and (row["mapping_id"], row["mapping_version"]) != (owner.id, owner.version):
                # one file, one mapping version: lineage names a single version per file
                res.status, res.reason = "failed", "mapping_changed"
                res.error = (
                    f"interrupted at record {row['checkpoint']} under {row['mapping_id']}@v{row['mapping_version']}; "
                    "resume with that mapping version, then retry its quarantine with the new one"
                )
                return _FileState(res.file_id, batch_id, res)
            # an interrupted earlier run: continue after its last committed record
            previous = int(row["batch_id"])
            if held and previous != batch_id:
                # its holder is dead: so is that run (batch row before file row, as everywhere)
                self._interrupt(conn, previous, now, keep_file=res.file_id)
            taken = conn.execute(
                update(files)
                .where(
                    files.c.id == res.file_id,
                    files.c.status == row["status"],
                    files.c.batch_id == previous,
                    _same(files.c.heartbeat_at, row["heartbeat_at"]),
                )
                .values(status="running", batch_id=batch_id, error=None, owner=me, heartbeat_at=now)
            )
            if taken.rowcount != 1:
                # another run claimed it between our look and our update
                res.status, res.reason = "failed", "busy"
                res.error = "the same file was just claimed by another run; run again when it ends"
                return _FileState(res.file_id, batch_id, res)
            conn.execute(update(batches).where(batches.c.id == batch_id).values(heartbeat_at=now))
            res.resumed_from = int(row["checkpoint"])
            res.read, res.accepted = int(row["records_read"]), int(row["accepted"])
            res.quarantined, res.duplicates = int(row["quarantined"]), int(row["duplicates"])
            return _FileState(res.file_id, batch_id, res)

    def _close_file_state(self, state: _FileState) -> bool:
        """Store the file's outcome; False if its lease was lost (another run holds the row)."""
        res = state.result
        files = self.table("ingest_file")
        status = res.status if res.status in ("done", "refused") else "failed"
        with self.engine.begin() as conn:
            closed = conn.execute(
                update(files)
                .where(files.c.id == state.file_id, files.c.batch_id == state.batch_id, files.c.status == "running")
                .values(status=status, error=res.error, finished_at=now_ms())
            )
        return closed.rowcount == 1

    def _run(
        self,
        path: Path,
        owner: Mapping,
        feed: Feed,
        transformer: Transformer,
        state: _FileState,
        size: int,
        progress: Progress | None,
        parallel: ParallelChunks | None = None,
    ) -> None:
        """Build the chunks (here, or in ``parallel`` 's worker processes for a big file); a
        :class:`ChunkWriter` thread stores them. The caller closes ``parallel`` after (this closes it
        as soon as the chunks are in, before building indexes)."""
        res = state.result
        target = Target(
            table=self.table(record_table_name(feed.category)),
            columns=self.codec(feed.category).columns + LINEAGE_COLUMNS,
            category=feed.category,
            file_id=state.file_id,
            batch_id=state.batch_id,
            batches=self.table("ingest_batch"),
            files=self.table("ingest_file"),
            quarantine=self.table("quarantine"),
            duplicates=self.table("ingest_duplicate"),
            on_stored=self.on_stored,
        )
        aside: bool | None = None  # decided on the first chunk, before the writer has any
        finished = False
        beat = (lambda: self._beat(state)) if res.resumed_from else None
        jobs: Iterable[ChunkJob]
        if parallel is not None:
            work = FileWork(
                path=path, mapping=owner, feed=owner.feeds.index(feed), standard=self.standard,
                keyring=self.keyring, timezone=self.settings.timezone, now=self.now, limits=self.limits,
                chunk_size=self.settings.ingest_chunk_size, skip=res.resumed_from, file_id=state.file_id,
                batch_id=state.batch_id, city_code=res.city_code,
            )  # fmt: skip
            parallel.begin(work, beat=beat, beat_s=self.settings.ingest_lease_stale_s / 4)
            jobs = parallel
        else:  # built here: the workers build their own
            builder = ChunkBuilder(
                feed=feed,
                transformer=transformer,
                codec=self.codec(feed.category),
                cipher=self.cipher,
                file_id=state.file_id,
                batch_id=state.batch_id,
                city_code=res.city_code,
            )
            jobs = self._jobs(path, feed, transformer, builder, res.resumed_from, beat)
        writer = ChunkWriter(self.engine, target, res, commit_rows=self.settings.ingest_commit_rows)
        pause = CollectorPause(active=size >= self.settings.ingest_parallel_min_bytes)
        try:
            try:
                with pause:
                    for job in jobs:
                        if aside is None:
                            aside = self._set_aside(target.table, job, size, res.resumed_from)
                        writer.submit(job)
                        if progress:
                            progress(res.name, min(writer.committed_bytes, size), size)
                        pause.tick()
            except BaseException:
                writer.close(reraise=False)  # chunks already queued are complete: store them
                raise
            writer.close()
            finished = True
        finally:
            if parallel is not None:
                parallel.close()
            if aside or res.resumed_from:  # a resumed file may inherit indexes its dead run set aside
                self._restore_after_load(target.table, raising=finished)
        if progress:
            progress(res.name, size, size)

    def _workers_for(self, size: int) -> int:
        """Worker processes for a file of ``size`` bytes (0: build the chunks here)."""
        if size < self.settings.ingest_parallel_min_bytes:
            return 0
        wanted = self.settings.ingest_workers
        return auto_workers() if wanted < 0 else wanted

    def _set_aside(self, table: Table, first: ChunkJob, size: int, skip: int) -> bool:
        """Before the file's first chunk: set the table's secondary indexes aside if worth it."""
        if first.done_bytes <= 0:
            return False
        expected = size * first.last_position // first.done_bytes - skip  # records still to come
        with self.engine.connect() as conn:
            worth = worth_deferring(conn, table, expected, self.settings.ingest_defer_indexes_rows)
        return bool(worth and set_aside(self.engine, table))

    def _restore_after_load(self, table: Table, *, raising: bool) -> None:
        """Build the indexes set aside; after a failure, quietly (the next start builds them)."""
        try:
            restore(self.engine, [table], self.on_index)
        except Exception:
            if raising:
                raise

    def _jobs(
        self,
        path: Path,
        feed: Feed,
        transformer: Transformer,
        builder: ChunkBuilder,
        skip: int,
        beat: Callable[[], None] | None = None,
    ) -> Iterator[ChunkJob]:
        """The file's chunks after record ``skip``, built here; ``beat`` keeps the lease while re-reading."""
        chunks = read_chunks(path, feed, transformer, self.limits, self.settings.ingest_chunk_size, skip,
                             beat, self.settings.ingest_lease_stale_s / 4)
        for records, done_bytes in chunks:
            yield builder.build(records, done_bytes)


def expand_paths(paths: Iterable[Path]) -> Iterator[tuple[Path, str, bool]]:
    """(file, display name, named explicitly?) for each file to ingest.

    Directories are walked in sorted order without following symlinks; their files are
    named by their path relative to the directory (``360100-binjiang/bj-zhxt/RYXX.csv``).
    """
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            for child in sorted(p.rglob("*")):
                if child.is_file() and not child.is_symlink() and not child.name.startswith("."):
                    yield child, child.relative_to(p).as_posix(), False
        else:
            yield p, p.name, True
