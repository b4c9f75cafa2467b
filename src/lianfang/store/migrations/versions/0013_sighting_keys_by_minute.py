"""sighting dedup keys lead with the minute of the pass

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:00:00.000000

A sighting's dedup key was the first 16 bytes of a keyed HMAC-SM3 of its key fields,
so consecutive passes landed anywhere in the unique key index and a bulk load dirtied
nearly every leaf page of it in every transaction. Keys are now the pass's minute
since 1970 (5 bytes, big-endian; before 1970 counts as 0) followed by the first 11
bytes of the same digest (``lianfang.store.codec.minute_prefix``). The upgrade rewrites
the stored keys the same way: the digest's first 11 bytes are kept, so no key material
is needed. Only ``rec_sighting`` is keyed by a time. Measured per million sightings: about 6 s
on SQLite; 28 s on PostgreSQL, where every row gets a new version (the key is indexed, so
no update is HOT) and the table with its indexes doubles in size until vacuumed.

The downgrade is refused: the five digest bytes the new keys drop cannot be recomputed
here (the digest is keyed), and keys that the older code does not compute would let a
file ingested again store its records twice.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MINUTE_BYTES = 5
KEEP = 16 - MINUTE_BYTES
LAST_MINUTE = (1 << (8 * MINUTE_BYTES)) - 1


def _rekey(passed_at: int | None, key: bytes) -> bytes:
    minute = min(max((passed_at or 0) // 60_000, 0), LAST_MINUTE)
    return minute.to_bytes(MINUTE_BYTES, "big") + bytes(key)[:KEEP]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        dbapi = bind.connection.dbapi_connection
        dbapi.create_function("lf_minute_key", 2, _rekey, deterministic=True)  # type: ignore[union-attr]
        op.execute("UPDATE rec_sighting SET dedup_key = lf_minute_key(passed_at, dedup_key)")
    else:
        # int8send: the 8-byte big-endian form; its last five bytes are the minute
        op.execute(
            "UPDATE rec_sighting SET dedup_key = "
            f"substring(int8send(LEAST(GREATEST(passed_at / 60000, 0), {LAST_MINUTE})) FROM 4 FOR {MINUTE_BYTES})"
            f" || substring(dedup_key FROM 1 FOR {KEEP})"
        )


def downgrade() -> None:
    raise RuntimeError(
        "revision 0013 cannot be downgraded: sighting dedup keys lead with the minute now, and the "
        "older form cannot be recomputed without the key ring; restore a backup taken before the upgrade"
    )
