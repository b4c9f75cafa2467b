"""person name phonetic index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:40:00.000000

Rows stored before this revision have no sound key; ``lianfang db reindex-phonetic``
fills it from the encrypted names (it needs the master key, which migrations do not).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rec_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_pybidx', sa.LargeBinary(length=16), nullable=True))
        batch_op.create_index('ix_rec_person_name_pybidx', ['name_pybidx'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rec_person', schema=None) as batch_op:
        batch_op.drop_index('ix_rec_person_name_pybidx')
        batch_op.drop_column('name_pybidx')
