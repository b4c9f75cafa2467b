"""ingest leases

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:00:00.000000

Who holds a running ingestion batch or file (``owner``, host:pid) and when it last
showed life (``heartbeat_at``, epoch ms), so a second run can tell a file left
``running`` by a dead process (resume it) from one a live process is ingesting
(busy), and a dead run's batch can read ``interrupted``. Rows from before this
revision keep NULL in both: their holders count as dead. Running batches are
looked up by status and a batch's files by batch, hence the two indexes.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ingest_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ingest_batch_status'), ['status'], unique=False)

    with op.batch_alter_table('ingest_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ingest_file_batch_id'), ['batch_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ingest_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_file_batch_id'))
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('owner')

    with op.batch_alter_table('ingest_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_batch_status'))
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('owner')
