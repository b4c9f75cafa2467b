"""Signed checkpoints of the audit trail (SM2), and their export to a separate place.

A checkpoint states "the trail's record ``seq`` has hash ``h`` at time ``t``" and is
signed with an SM2 key derived from the master key file (kept outside the
database). Checkpoints live in ``audit_checkpoint`` and can be exported as JSON to
a place the database's administrators cannot rewrite; ``lianfang audit verify
--checkpoint FILE`` then detects truncation and roll-back against them, using only
the public key written in the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, insert

from lianfang.audit.trail import head
from lianfang.crypto import KeyRing, Sm2KeyPair, public_key_from_hex, public_key_to_hex, verify


def signing_key(keyring: KeyRing) -> Sm2KeyPair:
    """The trail's SM2 key pair, derived from the current master key."""
    return Sm2KeyPair.from_seed(keyring.derive("audit:sm2:a") + keyring.derive("audit:sm2:b"))


def statement(kind: str, seq: int, hash_: bytes, at_ms: int) -> bytes:
    return f"lianfang-audit-checkpoint|{kind}|{seq}|{hash_.hex()}|{at_ms}".encode()


@dataclass(frozen=True)
class Checkpoint:
    kind: str  # checkpoint | purge
    seq: int
    hash: bytes
    at_ms: int
    public_key: str  # 04 || x || y, hex
    signature: bytes

    def signature_ok(self) -> bool:
        try:
            key = public_key_from_hex(self.public_key)
        except ValueError:
            return False
        return verify(statement(self.kind, self.seq, self.hash, self.at_ms), self.signature, key)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": "lianfang-audit-checkpoint/1",
            "kind": self.kind,
            "seq": self.seq,
            "hash": self.hash.hex(),
            "at_ms": self.at_ms,
            "public_key": self.public_key,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Checkpoint:
        if raw.get("format") != "lianfang-audit-checkpoint/1":
            raise ValueError("not a lianfang audit checkpoint file")
        try:
            return cls(
                kind=str(raw["kind"]),
                seq=int(raw["seq"]),
                hash=bytes.fromhex(raw["hash"]),
                at_ms=int(raw["at_ms"]),
                public_key=str(raw["public_key"]),
                signature=bytes.fromhex(raw["signature"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed checkpoint file: {exc}") from None

    @classmethod
    def from_row(cls, row: Any) -> Checkpoint:
        return cls(row.kind, int(row.seq), bytes(row.hash), int(row.at_ms), row.public_key, bytes(row.signature))


def sign_checkpoint(keyring: KeyRing, kind: str, seq: int, hash_: bytes, at_ms: int) -> Checkpoint:
    key = signing_key(keyring)
    return Checkpoint(
        kind=kind,
        seq=seq,
        hash=hash_,
        at_ms=at_ms,
        public_key=public_key_to_hex(key.public_key),
        signature=key.sign(statement(kind, seq, hash_, at_ms)),
    )


def take_checkpoint(engine: Engine, keyring: KeyRing, events: Table, checkpoints: Table, now_ms: int) -> Checkpoint:
    """Sign the trail's current head and store the checkpoint."""
    with engine.begin() as conn:
        seq, hash_ = head(conn, events, checkpoints)
        cp = sign_checkpoint(keyring, "checkpoint", seq, hash_, now_ms)
        conn.execute(insert(checkpoints).values(**_columns(cp)))
    return cp


def _columns(cp: Checkpoint) -> dict[str, Any]:
    return {
        "kind": cp.kind,
        "seq": cp.seq,
        "hash": cp.hash,
        "at_ms": cp.at_ms,
        "public_key": cp.public_key,
        "signature": cp.signature,
    }


def export_checkpoint(cp: Checkpoint, path: Path) -> None:
    path.write_text(json.dumps(cp.as_json(), indent=2) + "\n", encoding="utf-8")


def read_checkpoint(path: Path) -> Checkpoint:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: cannot read checkpoint ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path.name}: not a lianfang audit checkpoint file")
    return Checkpoint.from_json(raw)


__all__ = [
    "Checkpoint",
    "export_checkpoint",
    "read_checkpoint",
    "sign_checkpoint",
    "signing_key",
    "statement",
    "take_checkpoint",
]
