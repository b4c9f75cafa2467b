"""The audit trail bound to one database and key file: append, record, checkpoint, verify, purge."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, MetaData

from lianfang.audit.checkpoint import Checkpoint, take_checkpoint
from lianfang.audit.event import AuditEvent
from lianfang.audit.retention import MIN_RETENTION_DAYS, purge
from lianfang.audit.trail import AuditTrail, AuditUnavailable, GroupCommitter
from lianfang.audit.verify import VerifyReport, verify_trail
from lianfang.crypto import KeyRing


def now_ms() -> int:
    return int(time.time() * 1000)


class Pending:
    """The audit events a request served on an event loop has recorded, not yet known to be durable.

    :meth:`Audit.deferred` collects them; the request awaits :meth:`durable` before it answers, so
    nothing it returns leaves before its access is on disk — as a thread waits in :meth:`Audit.record`.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout_s: float):
        self.loop = loop
        self.thread = threading.get_ident()
        self.timeout_s = timeout_s
        self.futures: list[asyncio.Future[int]] = []

    async def durable(self) -> None:
        """Return once every event is committed; raise :class:`AuditUnavailable` if any is not."""
        futures, self.futures = self.futures, []
        if not futures:
            return
        try:
            answers = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), self.timeout_s)
        except TimeoutError:
            raise AuditUnavailable("the audit trail did not confirm the write in time; access refused") from None
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer


_pending: ContextVar[Pending | None] = ContextVar("lianfang_audit_pending", default=None)


class Audit:
    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        metadata: MetaData,
        *,
        on_failure: Callable[[BaseException], None] | None = None,
        on_append: Callable[[list[tuple[int, AuditEvent]]], None] | None = None,
        subjects: Callable[[AuditEvent], Sequence[str]] | None = None,
    ):
        self.engine = engine
        self.keyring = keyring
        self.events = metadata.tables["audit_event"]
        self.checkpoints = metadata.tables["audit_checkpoint"]
        self.trail = AuditTrail(engine, keyring, self.events, self.checkpoints, on_failure=on_failure,
                                on_append=on_append, subjects=subjects)
        self._committer: GroupCommitter | None = None
        self._start = threading.Lock()
        self.timeout_s = 30.0  # how long a caller waits for its event to be committed

    def append(self, events: Sequence[AuditEvent]) -> list[int]:
        return self.trail.append(events)

    def record(self, event: AuditEvent) -> int | None:
        """Append one event, durably, sharing the commit with concurrent callers (group commit).

        Returns its sequence number once it is committed, or raises :class:`AuditUnavailable` (the
        caller refuses the access) or :class:`PersonalDataInAudit` (for this event alone). Inside
        :meth:`deferred`, on its loop's thread, it returns None at once: the request awaits the
        commit before it answers.
        """
        committer = self._committer
        if committer is None:
            with self._start:
                if self._committer is None:
                    self._committer = GroupCommitter(self.trail, timeout_s=self.timeout_s)
                committer = self._committer
        pending = _pending.get()
        if pending is not None and pending.thread == threading.get_ident():
            pending.futures.append(committer.submit(event, pending.loop))
            return None
        return committer.record(event)

    @contextmanager
    def deferred(self) -> Iterator[Pending]:
        """Within this block (in a coroutine), :meth:`record` hands events over without waiting;
        the caller must ``await pending.durable()`` before it returns anything it read."""
        pending = Pending(asyncio.get_running_loop(), self.timeout_s)
        token = _pending.set(pending)
        try:
            yield pending
        finally:
            _pending.reset(token)

    def close(self) -> None:
        """Commit what is pending, stop the committer thread and close the trail's connection."""
        with self._start:
            if self._committer is not None:
                self._committer.close()
                self._committer = None
            self.trail.close()

    def checkpoint(self, at_ms: int | None = None) -> Checkpoint:
        return take_checkpoint(self.engine, self.keyring, self.events, self.checkpoints, at_ms or now_ms())

    def verify(
        self, exported: Iterable[Checkpoint] = (), progress: Callable[[int], None] | None = None
    ) -> VerifyReport:
        return verify_trail(self.engine, self.keyring, self.events, self.checkpoints, exported=exported,
                            progress=progress)

    def purge(self, before_ms: int, *, retention_days: int = MIN_RETENTION_DAYS,
              at_ms: int | None = None) -> tuple[int, Checkpoint | None]:
        return purge(self.engine, self.keyring, self.events, self.checkpoints, before_ms=before_ms,
                     now_ms=at_ms or now_ms(), retention_days=retention_days)


__all__ = ["Audit", "Pending", "now_ms"]
