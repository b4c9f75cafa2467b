"""A chunk ready to store (:class:`ChunkJob`), and its form between processes (:func:`pack`, :func:`unpack`).

Kept apart from the writer (:mod:`lianfang.ingest.writer`), which talks to the database:
ingestion's worker processes build and send jobs without importing SQLAlchemy.
"""

from __future__ import annotations

import marshal
import pickle
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChunkJob:
    """One chunk, ready to store. ``rows``, ``keys``, ``positions`` and ``hashes`` align."""

    read: int  # records in the chunk (all outcomes)
    last_position: int  # the checkpoint once committed
    done_bytes: int  # progress: source bytes up to the chunk's end
    rows: list[Sequence[Any]] = field(default_factory=list)  # fresh within the chunk, encoded (tuples once built)
    keys: list[bytes] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    # (position, raw hash, key, raw hash of the chunk's first record with that key)
    repeats: list[tuple[int, bytes, bytes, bytes]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)


#: marshal format 2: formats 3 and 4 write a value met before as a reference, which
#: costs a hash look-up for every shared value (codes, devices, small ints: most of a
#: row). Per benchmark sighting, format 2 dumps in 0.7 µs instead of 1.4 µs (in the
#: worker, the busier side) and loads in 1.0 µs instead of 0.8 µs.
_MARSHAL_VERSION = 2


def pack(job: ChunkJob) -> bytes:
    """The job as bytes for another process of this interpreter.

    ``marshal`` writes the rows (tuples of bytes, str, int, float, None) about four
    times faster than pickle and reads them back faster too; a job holding anything
    marshal cannot write goes as a pickle (the first byte tells which).
    """
    fields = (job.read, job.last_position, job.done_bytes, job.rows, job.keys, job.positions, job.hashes,
              job.repeats, job.quarantine, dict(job.reasons))
    try:
        return b"m" + marshal.dumps(fields, _MARSHAL_VERSION)
    except ValueError:
        return b"p" + pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes) -> ChunkJob:
    """The job :func:`pack` wrote."""
    body = memoryview(data)[1:]
    fields = marshal.loads(body) if data[:1] == b"m" else pickle.loads(body)
    read, last, done, rows, keys, positions, hashes, repeats, quarantine, reasons = fields
    return ChunkJob(read=read, last_position=last, done_bytes=done, rows=rows, keys=keys, positions=positions,
                    hashes=hashes, repeats=repeats, quarantine=quarantine, reasons=Counter(reasons))


__all__ = ["ChunkJob", "pack", "unpack"]
