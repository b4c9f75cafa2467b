"""who looked up which person, indexed for the alarm rules

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:00:00.000000

The ``many_users_one_subject`` rule asks, for every read that touches a person, how
many users read that person in the last 24 hours. It used to answer by scanning the
day's data events for the person's ID inside their JSON target lists, so on a busy
trail each read cost a scan of the whole day. ``audit_subject`` holds one row per
(event, person) — sequence number, subject (``person:<id>``), time, user — written by
the alarm rules as they see each event and indexed by subject and time. It is derived
from the trail (not part of the chain) and kept for a few days only. The upgrade fills
it from the last two days of the trail, so the rule's window is whole at once.
"""
import json
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
BACKFILL_MS = 2 * 86_400_000
PER_EVENT = 5  # the rule looks at the first five persons an event names


def upgrade() -> None:
    op.create_table('audit_subject',
    sa.Column('seq', _ID, nullable=False),
    sa.Column('subject', sa.String(length=160), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('seq', 'subject', name=op.f('pk_audit_subject'))
    )
    with op.batch_alter_table('audit_subject', schema=None) as batch_op:
        batch_op.create_index('ix_audit_subject_subject_at_ms', ['subject', 'at_ms'], unique=False)
    bind = op.get_bind()
    since = int(time.time() * 1000) - BACKFILL_MS
    rows = []
    for seq, at_ms, user_id, target in bind.execute(sa.text(
            "SELECT seq, at_ms, user_id, target FROM audit_event "
            "WHERE at_ms >= :since AND action LIKE 'data.%' AND target LIKE '%\"person:%'"), {"since": since}):
        persons = [t for t in json.loads(target) if t.startswith("person:")][:PER_EVENT]
        rows += [{"seq": seq, "subject": p[:160], "at_ms": at_ms, "user_id": user_id} for p in dict.fromkeys(persons)]
    if rows:
        op.bulk_insert(sa.table('audit_subject', sa.column('seq'), sa.column('subject'), sa.column('at_ms'),
                                sa.column('user_id')), rows)


def downgrade() -> None:
    with op.batch_alter_table('audit_subject', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_subject_subject_at_ms')
    op.drop_table('audit_subject')
