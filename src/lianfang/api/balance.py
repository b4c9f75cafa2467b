"""Even shares of keep-alive connections between the worker processes of ``lianfang serve --workers N``.

Each worker listens on a ``SO_REUSEPORT`` socket of its own and the kernel hashes every
new connection to one of them. With few long-lived connections — API clients that keep
theirs open — that often leaves one worker holding far more than another (20 connections
on 2 workers split 13/7 about as often as 10/10): the busier worker's callers wait for the
one core it runs on while the other's has room.

So the workers publish how many connections each holds in a small shared table (a file
beside the port lock, one slot per worker, refreshed on uvicorn's 0.1 s tick). A worker
holding more than its share answers requests in flight on its surplus connections with
``Connection: close``, as HTTP/1.1 allows; the client opens a new connection, which the
kernel hashes afresh, and over a few rounds the shares even out. A connection without a
request in flight is never closed: a request crossing the close would fail.
"""

from __future__ import annotations

import fcntl
import math
import mmap
import os
import struct
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: one slot: the worker's process ID, how many connections it holds, when it last said so
SLOT = struct.Struct("<iid")
SLOTS = 64
#: a slot not refreshed for this long belongs to a worker that is gone
STALE_S = 2.0
#: after asking clients to reconnect, a worker waits this long for the tables to show where they went
SETTLE_S = 0.3


class LoadTable:
    """The shared table of the workers serving one port (a file of :data:`SLOTS` slots)."""

    def __init__(self, path: Path):
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_size < SLOT.size * SLOTS:
                    os.ftruncate(fd, SLOT.size * SLOTS)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(fd, SLOT.size * SLOTS)
        finally:
            os.close(fd)  # the mapping keeps the file

    def claim(self, pid: int, now: float) -> int:
        """A slot for worker ``pid``: a free one, or one whose worker is gone."""
        fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # two workers starting together must not take the same slot
            for i in range(SLOTS):
                owner, _, beat = SLOT.unpack_from(self._map, i * SLOT.size)
                if owner == 0 or owner == pid or now - beat > STALE_S or not _alive(owner):
                    SLOT.pack_into(self._map, i * SLOT.size, pid, 0, now)
                    return i
        finally:
            os.close(fd)  # releases the lock
        raise RuntimeError(f"more than {SLOTS} workers on one port")

    def publish(self, slot: int, pid: int, connections: int, now: float) -> None:
        SLOT.pack_into(self._map, slot * SLOT.size, pid, connections, now)

    def release(self, slot: int) -> None:
        SLOT.pack_into(self._map, slot * SLOT.size, 0, 0, 0.0)

    def shares(self, now: float) -> list[int]:
        """The connections each live worker holds."""
        out = []
        for i in range(SLOTS):
            owner, count, beat = SLOT.unpack_from(self._map, i * SLOT.size)
            if owner and now - beat <= STALE_S:
                out.append(count)
        return out

    def totals(self, now: float) -> tuple[int, int]:
        """(connections, workers) over the live workers."""
        shares = self.shares(now)
        return sum(shares), len(shares)

    def close(self) -> None:
        self._map.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, and not ours to take over
        return True
    return True


def in_flight(protocol: Any) -> bool:
    """Whether the connection (a uvicorn HTTP protocol) has a request whose answer is not yet complete."""
    cycle = getattr(protocol, "cycle", None)
    return cycle is not None and not getattr(cycle, "response_complete", True)


class Balancer:
    """One worker's part: publish its connections each tick, shed its surplus (see the module's text)."""

    def __init__(self, table: LoadTable, *, clock: Any = time.monotonic, wall: Any = time.time):
        self.table = table
        self.pid = os.getpid()
        self._wall = wall
        self._clock = clock
        self.slot = table.claim(self.pid, wall())
        self._quiet_until = 0.0
        self.shed = 0  # connections asked to reconnect (statistics)

    def tick(self, connections: Iterable[Any]) -> int:
        """Publish this worker's connections; ask as many clients to reconnect as it holds beyond its share."""
        held = list(connections)
        now = self._wall()
        self.table.publish(self.slot, self.pid, len(held), now)
        total, workers = self.table.totals(now)
        surplus = len(held) - math.ceil(total / workers) if workers > 1 else 0
        if surplus <= 0 or self._clock() < self._quiet_until:
            return 0
        asked = 0
        for protocol in held:
            if asked == surplus:
                break
            if in_flight(protocol):
                protocol.shutdown()  # uvicorn: answer with Connection: close, then close
                asked += 1
        if asked:
            self.shed += asked
            self._quiet_until = self._clock() + SETTLE_S
        return asked

    def close(self) -> None:
        self.table.release(self.slot)
        self.table.close()


__all__ = ["Balancer", "LoadTable", "in_flight"]
