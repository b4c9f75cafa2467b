"""Retention: audit records are kept at least one year; a purge never touches them earlier.

A purge deletes the oldest records up to a cut-off and leaves a signed ``purge``
checkpoint holding the hash of the last deleted record, so verification of what
remains starts from a signed anchor instead of the genesis hash.
"""

from __future__ import annotations

from sqlalchemy import Engine, Table, delete, func, insert, select

from lianfang.audit.checkpoint import Checkpoint, sign_checkpoint
from lianfang.crypto import KeyRing

DAY_MS = 86_400_000
#: The floor: one year, counting a leap day. A configuration may keep records longer, never shorter.
MIN_RETENTION_DAYS = 366


class RetentionError(ValueError):
    """A purge would touch records inside the retention period."""


def purge(
    engine: Engine,
    keyring: KeyRing,
    events: Table,
    checkpoints: Table,
    *,
    before_ms: int,
    now_ms: int,
    retention_days: int = MIN_RETENTION_DAYS,
) -> tuple[int, Checkpoint | None]:
    """Delete the records older than ``before_ms``; returns (records deleted, purge anchor)."""
    if retention_days < MIN_RETENTION_DAYS:
        raise RetentionError(f"retention is at least {MIN_RETENTION_DAYS} days (configured {retention_days})")
    floor = now_ms - retention_days * DAY_MS
    if before_ms > floor:
        raise RetentionError("the cut-off is inside the retention period; nothing was deleted")
    with engine.begin() as conn:
        # the purged prefix ends before the first record at or after the cut-off (times can repeat)
        first_kept = conn.execute(select(func.min(events.c.seq)).where(events.c.at_ms >= before_ms)).scalar()
        last = conn.execute(select(func.max(events.c.seq))).scalar()
        if last is None:
            return 0, None
        upto = int(last) if first_kept is None else int(first_kept) - 1
        row = conn.execute(select(events.c.seq, events.c.hash).where(events.c.seq == upto)).first()
        if row is None:
            return 0, None
        anchor = sign_checkpoint(keyring, "purge", upto, bytes(row.hash), now_ms)
        conn.execute(insert(checkpoints).values(
            kind=anchor.kind, seq=anchor.seq, hash=anchor.hash, at_ms=anchor.at_ms,
            public_key=anchor.public_key, signature=anchor.signature,
        ))  # fmt: skip
        deleted = conn.execute(delete(events).where(events.c.seq <= upto)).rowcount
    return int(deleted or 0), anchor


__all__ = ["MIN_RETENTION_DAYS", "RetentionError", "purge"]
