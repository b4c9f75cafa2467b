"""The audit trail bound to one database and key file: append, record, checkpoint, verify, purge."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Engine, MetaData

from lianfang.audit.checkpoint import Checkpoint, take_checkpoint
from lianfang.audit.event import AuditEvent
from lianfang.audit.retention import MIN_RETENTION_DAYS, purge
from lianfang.audit.trail import AuditTrail, GroupCommitter
from lianfang.audit.verify import VerifyReport, verify_trail
from lianfang.crypto import KeyRing


def now_ms() -> int:
    return int(time.time() * 1000)


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

    def append(self, events: Sequence[AuditEvent]) -> list[int]:
        return self.trail.append(events)

    def record(self, event: AuditEvent) -> int:
        """Append one event, durably, sharing the commit with concurrent callers (group commit).

        Returns its sequence number; raises :class:`AuditUnavailable` (the caller refuses
        the access) or :class:`PersonalDataInAudit` (for this event alone).
        """
        committer = self._committer
        if committer is None:
            with self._start:
                if self._committer is None:
                    self._committer = GroupCommitter(self.trail)
                committer = self._committer
        return committer.record(event)

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


__all__ = ["Audit", "now_ms"]
