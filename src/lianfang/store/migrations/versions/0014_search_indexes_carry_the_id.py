"""searched columns of categories without an event time are indexed with the record id

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:10:00.000000

A search lists a value's matches newest first; where the category has no event time
(persons, vehicles, devices, units, jurisdictions) that is by record id. With an index
on the value alone, PostgreSQL either walked the primary key backwards filtering on the
value (a rare name: most of the table) or fetched and sorted every match of a common
name, for the 20 a page shows: 4–60 ms per name search on a million persons. With the id
in the index the page is the last entries of the value's range (0.2 ms). SQLite keeps
the row id in every index entry anyway; its indexes change alike so both stores have
the same schema. Rebuilding the indexes of a million persons takes a few seconds.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, the searched column) for every category without an event time
_INDEXES = (
    ('rec_device', 'ix_rec_device_device_id', 'device_id'),
    ('rec_jurisdiction', 'ix_rec_jurisdiction_code', 'code'),
    ('rec_person', 'ix_rec_person_citizen_id_bidx', 'citizen_id_bidx'),
    ('rec_person', 'ix_rec_person_name_bidx', 'name_bidx'),
    ('rec_person', 'ix_rec_person_name_pybidx', 'name_pybidx'),
    ('rec_person', 'ix_rec_person_phone_bidx', 'phone_bidx'),
    ('rec_unit', 'ix_rec_unit_unit_code', 'unit_code'),
    ('rec_vehicle', 'ix_rec_vehicle_owner_citizen_id_bidx', 'owner_citizen_id_bidx'),
    ('rec_vehicle', 'ix_rec_vehicle_plate_no', 'plate_no'),
)


def upgrade() -> None:
    for table, index, column in _INDEXES:
        op.drop_index(index, table_name=table, if_exists=True)  # an ingest may have set it aside
        op.create_index(index, table, [column, 'id'], unique=False)


def downgrade() -> None:
    for table, index, column in _INDEXES:
        op.drop_index(index, table_name=table, if_exists=True)
        op.create_index(index, table, [column], unique=False)
