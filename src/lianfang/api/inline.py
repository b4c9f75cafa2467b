"""Reads served on the event loop: no trip to the thread pool, the audit awaited before the answer.

FastAPI runs a plain ``def`` route on a pool thread. A read's work is Python between a few
short indexed queries, and Python runs one thread at a time per process: the hop to the
pool and back, and forty pool threads contending for the interpreter, cost more CPU than
they save waiting, and they let every request in the process slow every other (each
holds the interpreter in turns) instead of finishing in the order they came. The busiest
reads (search, trajectories) run here instead, inline on the loop: their audit events are
handed to the group committer without blocking (:meth:`Audit.deferred`) and awaited
before anything is returned, so nothing leaves before its access is durably recorded —
the same guarantee a pool thread has by waiting in :meth:`Audit.record`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from lianfang.platform import Platform

T = TypeVar("T")


async def inline(plat: Platform, call: Callable[[], T]) -> T:
    """``call()`` on the loop; returns its value once every audit event it recorded is committed.

    A call that raises still waits for the events it recorded (a refusal is recorded too). If
    the trail cannot confirm them, :class:`AuditUnavailable` is raised instead of the answer."""
    with plat.audit.deferred() as pending:
        try:
            return call()
        finally:
            await pending.durable()


__all__ = ["inline"]
