"""``lianfang audit verify``: prove the trail is whole, or say exactly where it is not.

One pass over the events in sequence order checks, for every record:

* **no gap** — a missing sequence number is a deleted record;
* **the chain** — ``SM3(previous stored hash || canonical(seq, record))`` equals the
  stored hash: an edited, inserted or reordered record breaks it (each break is
  reported once; checking resumes from the stored hash, so one edit is one problem);
* **the MAC** — HMAC-SM3 of the hash under the key file's audit key: a record
  written by someone who can change the database but not read the key file (a
  recomputed chain after an insertion or a rewrite) fails here.

Then every signed checkpoint — those in the database and any exported ones passed
in — must carry a valid SM2 signature by the trail's key, and the stored hash at its
sequence number must be the one it signed; a checkpoint beyond the last record
means the trail was truncated or rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, Table, select

from lianfang.audit.checkpoint import Checkpoint, signing_key
from lianfang.audit.event import CHAINED_COLUMNS as _CHAINED
from lianfang.audit.trail import GENESIS, link, mac_key
from lianfang.crypto import KeyRing, hmac_sm3, public_key_to_hex


@dataclass(frozen=True)
class Problem:
    kind: str  # missing | broken_link | bad_mac | bad_signature | foreign_key | checkpoint_mismatch | truncated
    seq: int
    message: str


@dataclass
class VerifyReport:
    records: int = 0
    first_seq: int | None = None
    last_seq: int = 0
    head_hash: bytes = GENESIS
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_trail(
    engine: Engine,
    keyring: KeyRing,
    events: Table,
    checkpoints: Table,
    *,
    exported: Iterable[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
    batch: int = 20_000,
) -> VerifyReport:
    report = VerifyReport()
    key = mac_key(keyring)
    trusted = public_key_to_hex(signing_key(keyring).public_key)
    with engine.connect() as conn:
        stored = [Checkpoint.from_row(r) for r in conn.execute(select(checkpoints).order_by(checkpoints.c.seq))]
    all_cps = [(cp, "database") for cp in stored] + [(cp, "exported") for cp in exported]
    good: list[tuple[Checkpoint, str]] = []
    for cp, where in all_cps:
        report.checkpoints += 1
        if cp.public_key != trusted:
            report.problems.append(
                Problem("foreign_key", cp.seq, f"{where} checkpoint at {cp.seq} is signed by another key")
            )
        elif not cp.signature_ok():
            report.problems.append(Problem("bad_signature", cp.seq, f"{where} checkpoint at {cp.seq}: bad signature"))
        else:
            good.append((cp, where))
    anchors = [cp for cp, _ in good if cp.kind == "purge"]
    start_seq, prev = (anchors[-1].seq, anchors[-1].hash) if anchors else (0, GENESIS)
    wanted = {cp.seq for cp, _ in good if cp.seq > start_seq}
    seen: dict[int, bytes] = {}
    expected = start_seq + 1
    cols = [events.c.seq, *(events.c[c] for c in _CHAINED), events.c.hash, events.c.mac]
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(*cols).where(events.c.seq > start_seq).order_by(events.c.seq)
        )
        for row in result:
            seq = int(row.seq)
            if report.first_seq is None:
                report.first_seq = seq
            if seq != expected:
                gap = f"{expected}" if seq == expected + 1 else f"{expected}–{seq - 1}"
                report.problems.append(Problem("missing", expected, f"records {gap} are missing (deleted)"))
            stored_hash = bytes(row.hash)
            values = {c: getattr(row, c) for c in _CHAINED}
            if link(prev, seq, values) != stored_hash:
                report.problems.append(
                    Problem("broken_link", seq, f"record {seq} does not follow its predecessor: edited, inserted "
                            "or reordered")
                )
            if hmac_sm3(key, stored_hash) != bytes(row.mac):
                report.problems.append(
                    Problem("bad_mac", seq, f"record {seq} was not written by this trail (MAC does not verify)")
                )
            if seq in wanted:
                seen[seq] = stored_hash
            prev = stored_hash
            expected = seq + 1
            report.records += 1
            if progress is not None and report.records % batch == 0:
                progress(report.records)
    report.last_seq = expected - 1
    report.head_hash = prev
    for cp, where in good:
        if cp.seq <= start_seq:
            continue  # before the retained part of the trail (purged)
        if cp.seq > report.last_seq:
            report.problems.append(
                Problem("truncated", cp.seq, f"{where} checkpoint at {cp.seq} is beyond the last record "
                        f"{report.last_seq}: the trail was truncated or rolled back")
            )
        elif seen.get(cp.seq) != cp.hash:
            report.problems.append(
                Problem("checkpoint_mismatch", cp.seq, f"record {cp.seq} differs from the {where} checkpoint "
                        "signed for it: history was rewritten")
            )
    report.problems.sort(key=lambda p: p.seq)
    return report

__all__ = ["Problem", "VerifyReport", "verify_trail"]
