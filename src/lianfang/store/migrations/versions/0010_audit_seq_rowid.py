"""audit trail keyed by its sequence number on SQLite

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00.000000

On SQLite a ``BIGINT`` primary key is a separate unique index beside the table's
rowid, so every append maintained two B-trees and every verification read looked
each record up twice. Declared ``INTEGER``, ``seq`` becomes the rowid itself. SQLite
cannot change a column's type in place: the table is rebuilt (records copied in
order, unchanged, so the chain and every checkpoint still verify) and its indexes
and append-only triggers are created again. PostgreSQL is unchanged.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETENTION_S = 366 * 86400  # as in 0004

_COLUMNS = """
    at_ms BIGINT NOT NULL,
    user_id BIGINT,
    username VARCHAR(64),
    unit_code VARCHAR(12),
    role VARCHAR(32),
    action VARCHAR(48) NOT NULL,
    target TEXT NOT NULL,
    purpose VARCHAR(48),
    case_no VARCHAR(64),
    grant_id BIGINT,
    outcome VARCHAR(32) NOT NULL,
    result_count INTEGER,
    client VARCHAR(64),
    detail TEXT NOT NULL,
    hash BLOB NOT NULL,
    mac BLOB NOT NULL,
    CONSTRAINT pk_audit_event PRIMARY KEY (seq)
"""


def _rebuild(seq_type: str) -> None:
    op.execute(f"CREATE TABLE audit_event_rebuilt (seq {seq_type} NOT NULL, {_COLUMNS})")
    op.execute("INSERT INTO audit_event_rebuilt SELECT * FROM audit_event ORDER BY seq")
    op.execute("DROP TABLE audit_event")  # its indexes and triggers go with it; DROP fires no DELETE trigger
    op.execute("ALTER TABLE audit_event_rebuilt RENAME TO audit_event")
    op.execute("CREATE INDEX ix_audit_event_at_ms ON audit_event (at_ms)")
    op.execute("CREATE INDEX ix_audit_event_user_id_at_ms ON audit_event (user_id, at_ms)")
    op.execute(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_event_retention BEFORE DELETE ON audit_event "
        f"WHEN OLD.at_ms > (CAST(strftime('%s', 'now') AS INTEGER) - {RETENTION_S}) * 1000 "
        "BEGIN SELECT RAISE(ABORT, 'audit records inside retention cannot be deleted'); END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("INTEGER")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("BIGINT")
