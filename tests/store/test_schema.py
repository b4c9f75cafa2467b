"""The schema follows the standard, migrations agree with it, and engines are configured."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from lianfang.platform import Platform
from lianfang.standard import load_standard
from lianfang.store.schema import build_metadata


def test_migrations_match_the_standard(platform: Platform) -> None:
    """Editing the standard's YAML without an Alembic revision fails here."""
    metadata = build_metadata(load_standard())
    with platform.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"schema drift; run `alembic revision --autogenerate`: {diff[:5]}"


def test_personal_fields_have_no_clear_column() -> None:
    metadata = build_metadata(load_standard())
    person = metadata.tables["rec_person"]
    assert "citizen_id" not in person.c and "name" not in person.c and "phone" not in person.c
    assert {"citizen_id_enc", "citizen_id_bidx", "name_enc", "name_bidx"} <= set(person.c.keys())


def test_query_serving_indexes_exist() -> None:
    metadata = build_metadata(load_standard())
    indexed = {
        t.name: [tuple(c.name for c in ix.columns) for ix in t.indexes]
        for t in metadata.tables.values()
    }
    assert ("plate_no", "passed_at") in indexed["rec_sighting"]
    assert ("device_id", "passed_at") in indexed["rec_sighting"]
    # no event time: a value's matches are listed by id, and the index serves them in that order
    for column in ("citizen_id_bidx", "name_bidx", "name_pybidx", "phone_bidx"):
        assert (column, "id") in indexed["rec_person"]
    assert ("plate_no", "id") in indexed["rec_vehicle"]
    assert ("city_code", "occurred_at") in indexed["rec_case"]
    assert ("case_no",) in indexed["rec_case"]


def test_sqlite_is_wal_with_full_sync(platform: Platform, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite pragmas only")
    with platform.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_optional_fields_search_indexes_skip_records_without_a_value(platform: Platform, backend: str) -> None:
    """Partial indexes (revision 0015), and the engines still use them to look a value up."""
    metadata = build_metadata(load_standard())
    partial = {
        str(ix.name): t.name
        for t in metadata.tables.values()
        for ix in t.indexes
        if ix.dialect_options["sqlite"]["where"] is not None
    }
    assert {"ix_rec_sighting_matched_citizen_id_bidx", "ix_rec_person_phone_bidx"} <= set(partial)
    assert "ix_rec_person_citizen_id_bidx" not in partial  # required: every record has one
    with platform.engine.connect() as conn:
        if backend == "sqlite":
            defs = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())
            conn.execute(text("ANALYZE"))
            plan = " ".join(r[-1] for r in conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM rec_sighting WHERE matched_citizen_id_bidx = x'00'")))
        else:
            defs = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes")).all())
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(r[0] for r in conn.execute(text(
                "EXPLAIN SELECT id FROM rec_sighting WHERE matched_citizen_id_bidx = '\\x00'::bytea")))
    for name in partial:
        assert "WHERE" in defs[name].upper() and "IS NOT NULL" in defs[name].upper(), name
    assert "ix_rec_sighting_matched_citizen_id_bidx" in plan
