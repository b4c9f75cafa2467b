"""an optional field's search index holds only the records that have a value

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 09:30:00.000000

The single-column search indexes of optional fields (a sighting's matched person, a
case's suspect, a vehicle's owner, …) become partial indexes, ``WHERE col IS NOT NULL``
on both stores (``lianfang.store.schema._present_only``). Searches compare the column
with a value, so both engines still use them; records without a value are no longer
indexed at all. A plate-camera file has no matched person: after a bulk load of a
million sightings, building that index sorted a million NULLs (0.6 s of the 2.3 s spent
on indexes at the end of the benchmark file). Rebuilding reads each table once.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, its columns, the optional column) as the standard defines them at this revision
_INDEXES = (
    ('rec_alert', 'ix_rec_alert_target_plate_no', ['target_plate_no'], 'target_plate_no'),
    ('rec_alert', 'ix_rec_alert_target_citizen_id_bidx', ['target_citizen_id_bidx'], 'target_citizen_id_bidx'),
    ('rec_case', 'ix_rec_case_suspect_citizen_id_bidx', ['suspect_citizen_id_bidx'], 'suspect_citizen_id_bidx'),
    ('rec_case', 'ix_rec_case_suspect_plate_no', ['suspect_plate_no'], 'suspect_plate_no'),
    ('rec_help_request', 'ix_rec_help_request_caller_phone_bidx', ['caller_phone_bidx'], 'caller_phone_bidx'),
    ('rec_person', 'ix_rec_person_phone_bidx', ['phone_bidx', 'id'], 'phone_bidx'),
    ('rec_sighting', 'ix_rec_sighting_matched_citizen_id_bidx', ['matched_citizen_id_bidx'],
     'matched_citizen_id_bidx'),
    ('rec_vehicle', 'ix_rec_vehicle_owner_citizen_id_bidx', ['owner_citizen_id_bidx', 'id'], 'owner_citizen_id_bidx'),
)


def upgrade() -> None:
    for table, index, columns, optional in _INDEXES:
        present = sa.text(f'{optional} IS NOT NULL')
        op.drop_index(index, table_name=table, if_exists=True)  # an ingest may have set it aside
        op.create_index(index, table, columns, unique=False, sqlite_where=present, postgresql_where=present)


def downgrade() -> None:
    for table, index, columns, _optional in _INDEXES:
        op.drop_index(index, table_name=table, if_exists=True)
        op.create_index(index, table, columns, unique=False)
