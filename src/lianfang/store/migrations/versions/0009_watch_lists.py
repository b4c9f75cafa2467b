"""watch lists

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00.000000

Watch-list entries (a plate or a person's blind-index key, never a citizen ID in clear;
reason and the typed ID SM4-encrypted) and the hits new sightings make against them.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('watch_entry',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('owner_id', _ID, nullable=False),
    sa.Column('owner_unit', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject_key', sa.String(length=64), nullable=False),
    sa.Column('subject_enc', sa.LargeBinary(), nullable=True),
    sa.Column('reason_enc', sa.LargeBinary(), nullable=False),
    sa.Column('purpose', sa.String(length=48), nullable=False),
    sa.Column('case_no', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('grant_ids', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('removed_at', sa.BigInteger(), nullable=True),
    sa.Column('removed_by', _ID, nullable=True),
    sa.Column('changed_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_watch_entry_owner_id_app_user')),
    sa.ForeignKeyConstraint(['removed_by'], ['app_user.id'], name=op.f('fk_watch_entry_removed_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_entry'))
    )
    with op.batch_alter_table('watch_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_entry_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_entry_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_entry_subject_key'), ['subject_key'], unique=False)

    op.create_table('watch_hit',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('entry_id', _ID, nullable=False),
    sa.Column('owner_id', _ID, nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=True),
    sa.Column('ingested_at', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('seen_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['watch_entry.id'], name=op.f('fk_watch_hit_entry_id_watch_entry')),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_watch_hit_owner_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_hit')),
    sa.UniqueConstraint('entry_id', 'record_id', name=op.f('uq_watch_hit_entry_id_record_id'))
    )
    with op.batch_alter_table('watch_hit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_hit_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_watch_hit_owner_id_id', ['owner_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('watch_hit', schema=None) as batch_op:
        batch_op.drop_index('ix_watch_hit_owner_id_id')
        batch_op.drop_index(batch_op.f('ix_watch_hit_entry_id'))

    op.drop_table('watch_hit')
    with op.batch_alter_table('watch_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_entry_subject_key'))
        batch_op.drop_index(batch_op.f('ix_watch_entry_status'))
        batch_op.drop_index(batch_op.f('ix_watch_entry_owner_id'))

    op.drop_table('watch_entry')
