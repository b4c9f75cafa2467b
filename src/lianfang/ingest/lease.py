"""Leases on ingestion work: who holds a ``running`` batch or file, and whether it still lives.

A ``running`` row of ``ingest_batch`` or ``ingest_file`` names its holder in ``owner``
(``host:pid``, at most 64 characters: no personal data) and carries ``heartbeat_at``
(epoch ms), which the holder sets when it claims the row and refreshes with every
chunk it commits (:mod:`.writer`).

The holder is **dead** when

* the row has no owner (it was written before leases existed), or
* it runs on this host and its process no longer exists (``kill(pid, 0)`` answers
  "no such process"; a process we may not signal is alive), or
* its heartbeat is older than ``LIANFANG_INGEST_LEASE_STALE_S`` (a holder on another
  host, or one whose pid was reused).

Otherwise it is alive, and its file is *busy*: another run must leave it alone.
Host names must differ between the machines that share one store, and their clocks
should agree to well within the stale time.
"""

from __future__ import annotations

import os
import socket

OWNER_WIDTH = 64


class LeaseLost(RuntimeError):
    """Raised where a holder finds its file taken over by another run (its heartbeat went stale)."""


def current_owner() -> str:
    """``host:pid`` of this process, shortened on the host side to fit the column."""
    pid = str(os.getpid())
    host = socket.gethostname() or "localhost"
    return f"{host[: OWNER_WIDTH - len(pid) - 1]}:{pid}"


def _host_of(owner: str) -> str:
    return owner.rpartition(":")[0]


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists; it is someone else's
    except OSError:
        return True  # cannot tell: leave it to the heartbeat
    return True


def holder_alive(owner: str | None, heartbeat_at: int | None, *, now_ms: int, stale_ms: int) -> bool:
    """Whether the holder named by a ``running`` row may still be working on it."""
    if owner is None or heartbeat_at is None:
        return False  # written before leases: only an older version could be holding it
    if now_ms - heartbeat_at > stale_ms:
        return False
    host, _, pid = owner.rpartition(":")
    if host == _host_of(current_owner()) and pid.isdigit():
        return _pid_alive(int(pid))
    return True


def describe(owner: str | None, heartbeat_at: int | None, *, now_ms: int) -> str:
    """``host:pid, last heartbeat 3 s ago`` — for messages to a steward."""
    if owner is None or heartbeat_at is None:
        return "an earlier version"
    return f"{owner}, last heartbeat {max(0, now_ms - heartbeat_at) // 1000} s ago"


__all__ = ["OWNER_WIDTH", "LeaseLost", "current_owner", "describe", "holder_alive"]
