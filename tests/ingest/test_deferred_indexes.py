"""Bulk loads build the secondary indexes at the end; a load that dies leaves them to be built."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, func, insert, inspect, select

from lianfang.ingest.chunks import now_ms
from lianfang.ingest.lease import current_owner
from lianfang.ingest.pipeline import Ingestor
from lianfang.store.indexes import secondary_indexes, set_aside

from .conftest import sighting_csv

SIGHTING_INDEXES = {
    "ix_rec_sighting_device_id_passed_at",
    "ix_rec_sighting_matched_citizen_id_bidx",
    "ix_rec_sighting_plate_no_passed_at",
}


def _indexes(ingestor: Ingestor, table: str = "rec_sighting") -> set[str]:
    return {str(ix["name"]) for ix in inspect(ingestor.engine).get_indexes(table)}


def _watching(ingestor: Ingestor) -> list[set[str]]:
    """Index names seen by each chunk's transaction, from inside it (the stored-rows hook)."""
    seen: list[set[str]] = []

    def hook(conn: Connection, category: str, columns: tuple[str, ...], rows: object) -> None:
        seen.append({str(ix["name"]) for ix in inspect(conn).get_indexes("rec_sighting")})

    ingestor.on_stored = hook
    return seen


def test_a_big_file_loads_without_secondary_indexes_and_builds_them_at_its_end(
    ingestor: Ingestor, tmp_path: Path
) -> None:
    assert {str(ix.name) for ix in secondary_indexes(ingestor.table("rec_sighting"))} == SIGHTING_INDEXES
    ingestor.settings.ingest_chunk_size = 50
    ingestor.settings.ingest_defer_indexes_rows = 100
    seen = _watching(ingestor)
    built: list[str] = []
    ingestor.on_index = lambda index, table: built.append(index)
    f = ingestor.ingest([sighting_csv(tmp_path / "kk_big.csv", 300, bad_every=9)]).files[0]
    assert f.status == "done" and f.accepted + f.quarantined + f.duplicates == f.read == 300
    assert seen and all(not (names & SIGHTING_INDEXES) for names in seen)  # none while loading
    assert sorted(built) == sorted(SIGHTING_INDEXES) and _indexes(ingestor) >= SIGHTING_INDEXES
    table = ingestor.table("rec_sighting")
    with ingestor.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(table)).scalar_one()
        positions = sorted(conn.execute(select(table.c.position)).scalars())
    assert stored == f.accepted and len(set(positions)) == stored  # each record once


def test_a_file_smaller_than_its_table_keeps_indexes_live(ingestor: Ingestor, tmp_path: Path) -> None:
    ingestor.settings.ingest_chunk_size = 50
    ingestor.settings.ingest_defer_indexes_rows = 100
    ingestor.ingest([sighting_csv(tmp_path / "kk_first.csv", 300)])
    seen = _watching(ingestor)
    ingestor.ingest([sighting_csv(tmp_path / "kk_second.csv", 200, start=1000)])  # 200 < 300 stored
    assert seen and all(names >= SIGHTING_INDEXES for names in seen)


def test_below_the_threshold_or_switched_off_nothing_is_set_aside(ingestor: Ingestor, tmp_path: Path) -> None:
    ingestor.settings.ingest_chunk_size = 50
    seen = _watching(ingestor)
    ingestor.settings.ingest_defer_indexes_rows = 1000
    ingestor.ingest([sighting_csv(tmp_path / "kk_small.csv", 300)])
    ingestor.settings.ingest_defer_indexes_rows = 0
    ingestor.ingest([sighting_csv(tmp_path / "kk_off.csv", 300, start=5000)])
    assert len(seen) == 12 and all(names >= SIGHTING_INDEXES for names in seen)


def test_a_failed_load_still_builds_its_indexes(
    ingestor: Ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lianfang.ingest import writer as writer_mod

    from .test_fastpath import failing_at

    ingestor.settings.ingest_chunk_size = 50
    ingestor.settings.ingest_defer_indexes_rows = 100
    monkeypatch.setattr(writer_mod, "bulk_insert", failing_at(3, writer_mod.bulk_insert))
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingestor.ingest([sighting_csv(tmp_path / "kk_fail.csv", 300)])
    assert _indexes(ingestor) >= SIGHTING_INDEXES


def test_indexes_left_aside_by_a_dead_run_are_built_on_the_next_start(ingestor: Ingestor, tmp_path: Path) -> None:
    ingestor.ingest([sighting_csv(tmp_path / "kk_a.csv", 30)])
    assert set_aside(ingestor.engine, ingestor.table("rec_sighting")) == sorted(SIGHTING_INDEXES)
    assert not SIGHTING_INDEXES & _indexes(ingestor)  # as a run killed mid-load leaves them
    built = ingestor.restore_indexes()
    assert sorted(built) == sorted(SIGHTING_INDEXES) and _indexes(ingestor) >= SIGHTING_INDEXES
    assert ingestor.restore_indexes() == []  # nothing missing: nothing done


def test_a_table_a_live_run_is_loading_is_left_to_that_run(ingestor: Ingestor, tmp_path: Path) -> None:
    set_aside(ingestor.engine, ingestor.table("rec_sighting"))
    batches, files = ingestor.table("ingest_batch"), ingestor.table("ingest_file")
    now = now_ms()
    with ingestor.engine.begin() as conn:  # a run in another process, alive, loading sightings
        batch = conn.execute(insert(batches).values(origin="cli", started_at=now, status="running",
                                                    owner=current_owner(), heartbeat_at=now)).inserted_primary_key[0]
        conn.execute(insert(files).values(content_hash="ab" * 32, batch_id=batch, name="kk_live.csv", size=1,
                                          mapping_id="m", mapping_version=1, city_code="360200", system="S",
                                          category="sighting", status="running", started_at=now,
                                          owner=current_owner(), heartbeat_at=now))
    assert ingestor.restore_indexes() == []
    assert not SIGHTING_INDEXES & _indexes(ingestor)
    with ingestor.engine.begin() as conn:  # that run died: its heartbeat went stale
        conn.execute(files.update().values(heartbeat_at=now - 10 * ingestor.lease_stale_ms))
    assert sorted(ingestor.restore_indexes()) == sorted(SIGHTING_INDEXES)
