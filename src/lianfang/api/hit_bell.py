"""One look for new watch-list hits per process, however many live streams it serves.

A hit may be stored by any process (the command line ingesting a file, another worker
taking a GA/T 1400 push), so a stream learns of it from the database. Each stream
used to ask for its owner's hits every ``watch_poll_ms``: with a few hundred officers
holding the watch page open, a worker sent the database a few thousand queries a
second that almost always found nothing, each through the thread pool.

:class:`HitBell` asks instead, once per interval for the whole process, for the newest
hit id in the store (the end of the primary key: one index step). Streams wait on the
bell between their own checks; when the newest id moves past what a stream last saw,
every waiting stream wakes and reads its owner's new hits (those of other users find
none and wait again). The bell polls only while a stream waits on it, on the loop of
the server that serves the streams.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)


class HitBell:
    """Rings when the newest hit id in the store grows; ``newest()`` reads it (blocking, run on a pool thread)."""

    def __init__(self, newest: Callable[[], int], interval_s: float):
        self._read_newest = newest
        self.interval_s = interval_s
        self.newest = 0  # the newest hit id the bell has seen (0 before its first look)
        self._waiters = 0
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rung: asyncio.Event | None = None

    async def wait(self, seen: int, timeout_s: float) -> int:
        """Until the newest hit id exceeds ``seen`` or ``timeout_s`` passes; the newest id the bell knows."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new server in this process: start afresh on its loop
            self._loop, self._task, self._rung = loop, None, asyncio.Event()
        assert self._rung is not None
        self._waiters += 1
        try:
            if self._task is None:
                self._task = loop.create_task(self._run())
            deadline = loop.time() + timeout_s
            while self.newest <= seen:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(self._rung.wait(), left)
                except TimeoutError:
                    break
            return self.newest
        finally:
            self._waiters -= 1

    async def _run(self) -> None:
        try:
            while self._waiters > 0:
                try:
                    newest = await run_in_threadpool(self._read_newest)
                except Exception as exc:  # the database away for a moment: streams wait on, the next look retries
                    log.warning("looking for new watch-list hits failed (%s); trying again", exc.__class__.__name__)
                    newest = self.newest
                if newest > self.newest:
                    self.newest = newest
                    rung, self._rung = self._rung, asyncio.Event()
                    if rung is not None:
                        rung.set()
                await asyncio.sleep(self.interval_s)
        finally:  # no await between the last check of waiters and this: a new waiter starts it again
            if self._task is asyncio.current_task():
                self._task = None


__all__ = ["HitBell"]
