"""Chunks of a big file built in worker processes; the calling process only stores them.

In one process the chunk builder (reading, mapping, normalising, hashing: Python) and
the writer thread (binding rows for SQLite) take turns on one interpreter lock: on
the benchmark file the builder alone needs 13 s per million records but took 18 s
beside the writer, which itself waited for the lock between statements. So a file
of at least ``ingest_parallel_min_bytes`` is read by ``ingest_workers`` processes:

* every worker reads the **whole file** with the same reader and cuts the same chunks,
  and builds chunk *k* only if *k* mod N is its number (reading is the cheap part:
  about a tenth of building);
* the caller takes chunk 0 from worker 0, chunk 1 from worker 1, … so chunks reach the
  :class:`~lianfang.ingest.writer.ChunkWriter` in file order, and everything the
  single-process path guarantees holds as it is: chunks commit whole with the file's
  checkpoint, a resumed file skips the same records, counts add up;
* **bounded memory**: a worker's queue holds at most two built chunks, so a worker
  that is ahead waits;
* **errors in order**: a worker that fails (a hostile file, a mapping that names
  missing columns) sends the exception in place of its next chunk, and the caller
  raises it when it gets there, after storing the chunks before it, as in one process;
* a worker that dies without a word (killed, out of memory) is noticed within a
  second; the caller keeps the lease's heartbeat while it waits (a resumed file is
  re-read up to its checkpoint before the first chunk comes).

Workers are started fresh for each file (``spawn``: no state is inherited from a
process that has threads) and stopped when it ends, however it ends. They start
before the file is known to need them: while the caller hashes the file and claims it,
they import what they need (a few tenths of a second) and then wait for their
:class:`FileWork`; a file that turns out to be done already stops them unused.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lianfang.crypto import BlindIndex, FieldCipher, KeyRing
from lianfang.ingest.chunks import ChunkBuilder, read_chunks
from lianfang.ingest.collector import CollectorPause
from lianfang.ingest.jobs import ChunkJob, pack, unpack
from lianfang.ingest.mapping import Mapping
from lianfang.ingest.readers import Limits
from lianfang.ingest.transform import Transformer
from lianfang.standard import Standard
from lianfang.store.codec import RecordCodec

_JOB, _END, _ERROR = "job", "end", "error"
_QUEUE_DEPTH = 2  # built chunks a worker may hold ahead of the writer
_POLL_S = 1.0


def auto_workers() -> int:
    """Worker processes when ``ingest_workers`` is -1: one per CPU but the writer's (1 to 4), none on one CPU.

    On two CPUs one worker measured as fast as two (each worker re-reads the file,
    and three busy processes share two CPUs) with less memory.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if cpus < 2 else min(cpus - 1, 4)


@dataclass(frozen=True)
class FileWork:
    """Everything a worker needs to build a file's chunks (pickled to it once)."""

    path: Path
    mapping: Mapping
    feed: int  # index into mapping.feeds
    standard: Standard
    keyring: KeyRing
    timezone: str
    now: datetime | None
    limits: Limits
    chunk_size: int
    skip: int  # records already stored (resume)
    file_id: int
    batch_id: int
    city_code: str


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError naming it."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"ingest worker failed: {type(exc).__name__}: {exc}")
    return exc


def _watch_parent() -> None:
    """End this worker at once if the calling process dies (``kill -9`` cannot stop its workers).

    Checked every second on a thread of its own, so it works whatever the worker is
    doing: reading, building, waiting for room in its queue, or flushing its last
    chunk into a pipe nobody will read.
    """
    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        while parent.is_alive():
            time.sleep(_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, name="lianfang-ingest-parent-watch", daemon=True).start()


def _serve(index: int, count: int, inbox: Any, out: Any) -> None:
    """A worker's whole life: wait for the file's :class:`FileWork` (None: not needed), then :func:`_work`."""
    _watch_parent()
    try:
        work = inbox.get()
    except BaseException as exc:
        out.put((_ERROR, _portable(exc)))
        return
    if work is not None:
        _work(work, index, count, out)


def _work(work: FileWork, index: int, count: int, out: Any) -> None:
    """Build chunks ``index``, ``index + count``, … of the file and send them."""
    try:
        feed = work.mapping.feeds[work.feed]
        transformer = Transformer(feed, work.standard, tz=ZoneInfo(work.timezone), now=work.now)
        cipher, blind = FieldCipher(work.keyring), BlindIndex(work.keyring)
        builder = ChunkBuilder(
            feed=feed,
            transformer=transformer,
            codec=RecordCodec(work.standard.category(feed.category), cipher, blind),
            cipher=cipher,
            file_id=work.file_id,
            batch_id=work.batch_id,
            city_code=work.city_code,
        )
        chunks = read_chunks(work.path, feed, transformer, work.limits, work.chunk_size, work.skip)
        with CollectorPause() as pause:
            for k, (records, done_bytes) in enumerate(chunks):
                if k % count == index:
                    out.put((_JOB, pack(builder.build(records, done_bytes))))
                pause.tick()
        out.put((_END, None))
    except BaseException as exc:  # the caller raises it in file order
        out.put((_ERROR, _portable(exc)))


class ParallelChunks:
    """``count`` workers for one file: start them, :meth:`begin` the file, iterate its
    :class:`ChunkJob` s in order; :meth:`close` stops the workers (however far they got)."""

    def __init__(self, count: int):
        ctx = mp.get_context("spawn")
        self._count = count
        self._beat: Callable[[], None] | None = None
        self._beat_s = 30.0
        self._begun = self._closed = False
        self._inboxes = [ctx.SimpleQueue() for _ in range(count)]
        self._queues = [ctx.Queue(maxsize=_QUEUE_DEPTH) for _ in range(count)]
        self._procs: list[BaseProcess] = [
            ctx.Process(target=_serve, args=(i, count, inbox, q), name=f"lianfang-ingest-{i}", daemon=True)
            for i, (inbox, q) in enumerate(zip(self._inboxes, self._queues, strict=True))
        ]
        for p in self._procs:
            p.start()

    def begin(self, work: FileWork, *, beat: Callable[[], None] | None = None, beat_s: float = 30.0) -> None:
        """Hand the workers their file; ``beat`` keeps the lease while the caller waits for chunks."""
        self._beat, self._beat_s = beat, beat_s
        for inbox in self._inboxes:
            inbox.put(work)
        self._begun = True

    def __iter__(self) -> Iterator[ChunkJob]:
        if not self._begun:
            raise RuntimeError("ParallelChunks: begin() a file before reading its chunks")
        k = 0
        while True:
            kind, payload = self._next(k % self._count)
            if kind == _END:
                return
            if kind == _ERROR:
                raise payload
            yield unpack(payload)
            k += 1

    def _next(self, i: int) -> tuple[str, Any]:
        last_beat = time.monotonic()
        while True:
            try:
                return self._queues[i].get(timeout=_POLL_S)  # type: ignore[no-any-return]
            except queue.Empty:
                pass
            proc = self._procs[i]
            if not proc.is_alive():
                try:  # its last words may still be in the pipe
                    return self._queues[i].get(timeout=_POLL_S)  # type: ignore[no-any-return]
                except queue.Empty:
                    raise RuntimeError(
                        f"ingest worker {i} stopped unexpectedly (exit code {proc.exitcode}); a script that "
                        "ingests must start under `if __name__ == \"__main__\":` (workers import it), or set "
                        "LIANFANG_INGEST_WORKERS=0"
                    ) from None
            if self._beat is not None and time.monotonic() - last_beat > self._beat_s:
                self._beat()
                last_beat = time.monotonic()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for p in self._procs:
            if p.is_alive():
                p.terminate()
        for p in self._procs:
            p.join(timeout=10)
        for q in self._queues:
            q.cancel_join_thread()
            q.close()
        for inbox in self._inboxes:
            inbox.close()


__all__ = ["FileWork", "ParallelChunks", "auto_workers"]
