"""Ingestion end to end on a real store: counts, quarantine, duplicates, lineage, encryption."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from lianfang.ingest import quarantine as q
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform

from .conftest import person_csv, sighting_csv


def _count(ing: Ingestor, table: str) -> int:
    with ing.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ing.table(table))).scalar_one())


def test_person_file_is_stored_quarantined_and_deduplicated(ingestor: Ingestor, tmp_path: Path) -> None:
    result = ingestor.ingest([person_csv(tmp_path / "rk_2026.csv")])
    f = result.files[0]
    assert (f.status, f.read, f.accepted, f.quarantined, f.duplicates) == ("done", 5, 2, 2, 1)
    assert f.balanced
    assert f.by_reason["citizen_id.format"] == 1  # R4: Y is no check character
    assert f.by_reason["citizen_id.check_digit"] == 1  # R5
    assert f.by_reason["phone.format"] == 1
    assert _count(ingestor, "rec_person") == 2


def test_reasons_are_recorded_without_values(ingestor: Ingestor, tmp_path: Path) -> None:
    ingestor.ingest([person_csv(tmp_path / "rk_2026.csv")])
    total, items = q.list_items(ingestor)
    assert total == 2
    by_pos = {i.position: i for i in items}
    assert {r["code"] for r in by_pos[5].reasons} == {"citizen_id.check_digit", "phone.format"}
    dumped = json.dumps([i.as_dict() for i in items], ensure_ascii=False)
    for secret in ("36010219900307123X", "赵六", "12345", "王五"):
        assert secret not in dumped
    item, fields, raw = q.get_item(ingestor, by_pos[5].id)  # type: ignore[misc]
    assert fields["XM"] == "赵六" and raw.decode("gbk").startswith("R5,")
    assert item.locator and item.file_name == "rk_2026.csv"


def test_personal_fields_are_encrypted_and_searchable_by_blind_index(ingestor: Ingestor, tmp_path: Path) -> None:
    ingestor.ingest([person_csv(tmp_path / "rk_2026.csv")])
    table = ingestor.table("rec_person")
    with ingestor.engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
        bidx = ingestor.blind.digest("citizen_id", "11010519491231002X")
        hit = conn.execute(select(table).where(table.c.citizen_id_bidx == bidx)).mappings().one()
    for row in rows:
        assert b"1101051949" not in bytes(row["citizen_id_enc"])
        assert "张三".encode() not in bytes(row["name_enc"])
    values = ingestor.codec("person").decode(hit, ingestor.tz)
    assert values["name"] == "张三" and values["phone"] == "13812345678"
    assert str(values["birth_date"]) == "1949-12-31"


def test_lineage_on_every_record(ingestor: Ingestor, tmp_path: Path) -> None:
    result = ingestor.ingest([person_csv(tmp_path / "rk_2026.csv")])
    rec, files = ingestor.table("rec_person"), ingestor.table("ingest_file")
    with ingestor.engine.connect() as conn:
        rows = conn.execute(
            select(
                rec.c.position,
                rec.c.source_record_id,
                rec.c.raw_hash,
                rec.c.batch_id,
                files.c.name,
                files.c.mapping_id,
                files.c.mapping_version,
                files.c.city_code,
                files.c.system,
            )
            .join(files, files.c.id == rec.c.file_id)
            .order_by(rec.c.position)
        ).all()
    assert [(r.position, r.source_record_id) for r in rows] == [(1, "R1"), (2, "R2")]
    for r in rows:
        assert r.batch_id == result.batch_id and len(r.raw_hash) == 32
        assert (r.name, r.mapping_id, r.mapping_version, r.city_code, r.system) == (
            "rk_2026.csv",
            "test.binjiang.rk",
            1,
            "360100",
            "BJ-RK",
        )


def test_same_file_twice_stores_nothing_new(ingestor: Ingestor, tmp_path: Path) -> None:
    path = sighting_csv(tmp_path / "kk_1.csv", 1200, bad_every=100)
    first = ingestor.ingest([path]).files[0]
    assert first.balanced and first.accepted == 1188 and first.quarantined == 12
    again = ingestor.ingest([path]).files[0]
    assert again.status == "skipped"
    assert _count(ingestor, "rec_sighting") == 1188 and _count(ingestor, "quarantine") == 12


def test_same_records_in_another_file_are_duplicates(ingestor: Ingestor, tmp_path: Path) -> None:
    ingestor.ingest([sighting_csv(tmp_path / "kk_1.csv", 1000)])
    overlap = ingestor.ingest([sighting_csv(tmp_path / "kk_2.csv", 1000, start=500)]).files[0]
    assert (overlap.read, overlap.accepted, overlap.duplicates) == (1000, 500, 500)
    assert _count(ingestor, "rec_sighting") == 1500
    assert _count(ingestor, "ingest_duplicate") == 500


def test_retry_after_fixing_a_value(ingestor: Ingestor, tmp_path: Path) -> None:
    ingestor.ingest([person_csv(tmp_path / "rk_2026.csv")])
    _, items = q.list_items(ingestor, reason="phone.format")
    target = items[0]
    still = q.retry(ingestor, [target.id], overrides={"LXDH": "13912345678"})
    assert still.still_rejected == 1  # the ID is still wrong
    done = q.retry(ingestor, [target.id], overrides={"LXDH": "13912345678", "GMSFHM": "360102199003071236"})
    assert done.resolved == 1
    assert _count(ingestor, "rec_person") == 3
    item = q.get_item(ingestor, target.id)[0]  # type: ignore[index]
    assert (item.status, item.resolved_with, item.corrected_fields) == (
        "resolved",
        "test.binjiang.rk@v1",
        "GMSFHM,LXDH",
    )
    files = ingestor.table("ingest_file")
    with ingestor.engine.connect() as conn:
        row = conn.execute(select(files)).mappings().one()
    assert row["accepted"] + row["quarantined"] + row["duplicates"] == row["records_read"] == 5


def test_missing_mapped_column_fails_the_file_clearly(ingestor: Ingestor, tmp_path: Path) -> None:
    path = tmp_path / "kk_bad.csv"
    path.write_text("SBBH,GCSJ,HPHM\n36020000001210000001,2026-10-01 00:00:00,赣B12345\n", encoding="utf-8")
    f = ingestor.ingest([path]).files[0]
    assert f.status == "failed" and "HPZL" in (f.error or "")
    assert _count(ingestor, "rec_sighting") == 0


def test_unmatched_file_is_a_clear_failure(ingestor: Ingestor, tmp_path: Path) -> None:
    path = tmp_path / "mystery.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    f = ingestor.ingest([path]).files[0]
    assert f.status == "failed" and "no mapping matches" in (f.error or "")


def test_platform_fixture_runs_on_this_backend(platform: Platform, backend: str) -> None:
    assert platform.engine.dialect.name == ("sqlite" if backend == "sqlite" else "postgresql")


def test_quarantine_display_masks_only_personal_columns(ingestor: Ingestor, tmp_path: Path) -> None:
    ingestor.ingest([person_csv(tmp_path / "rk_2026.csv")])
    _, items = q.list_items(ingestor, reason="phone.format")
    item, fields, _ = q.get_item(ingestor, items[0].id)  # type: ignore[misc]
    shown = q.masked_fields(ingestor, item, fields)
    assert shown["XB"] == "女"  # sex is not personal information: shown as is
    assert shown["XM"] == "赵*"  # the name keeps its surname
    assert shown["GMSFHM"] == "360102********123X"
    assert shown["RYBH"] != "R5"  # a column the mapping does not read is masked (fail closed)


def test_resume_under_another_mapping_version_is_refused(ingestor: Ingestor, tmp_path: Path) -> None:
    """One file, one mapping version: an interrupted file must finish under the version it began with."""
    from sqlalchemy import update

    from lianfang.ingest.mapping import load_mapping

    from .conftest import SIGHTING_MAPPING, dead_owner

    path = sighting_csv(tmp_path / "kk_1.csv", 1000)
    ingestor.ingest([path])
    files = ingestor.table("ingest_file")
    with ingestor.engine.begin() as conn:  # what a kill -9 after the first chunk leaves behind
        conn.execute(update(files).values(status="running", checkpoint=500, owner=dead_owner()))
    newer = tmp_path / "kk-v2.yaml"
    newer.write_text(SIGHTING_MAPPING.replace("version: 1", "version: 2"), encoding="utf-8")
    result = ingestor.ingest([path], mapping=load_mapping(newer, ingestor.standard)).files[0]
    assert (result.status, result.reason) == ("failed", "mapping_changed")
    assert "test.yunzhou.kk@v1" in (result.error or "")
    with ingestor.engine.connect() as conn:
        assert conn.execute(select(files.c.status, files.c.checkpoint)).one() == ("running", 500)
